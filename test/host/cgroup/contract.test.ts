import { join } from 'node:path';
import { cgroupContract } from './contract.js';
import { fakeDriver } from './fixtures.js';

for (const version of [1, 2] as const) {
  cgroupContract(`v${version} fake tree`, async () => {
    // v1 as on a hybrid systemd host: name=systemd and a cgroup2 mount with no controller
    const { fake, driver } = await fakeDriver(version === 1 ? { version, tracking: ['systemd', 'unified'] } : { version });
    let nextPid = 40_000;
    return {
      driver,
      project: 'shop',
      cpus: [0, 1],
      services: version === 1 ? [join(fake.root, 'unified')] : [],
      spawn: async () => nextPid++,
      cleanup: async () => fake.dispose(),
    };
  });
}
