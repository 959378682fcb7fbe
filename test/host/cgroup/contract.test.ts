import { join } from 'node:path';
import { cgroupContract } from './contract.js';
import { fakeDriver } from './fixtures.js';
import type { FakeOptions } from './fake-cgroupfs.js';

/** Each layout, with the hierarchy where systemd would track units (relative to the tree). */
const LAYOUTS: [string, FakeOptions, string[]][] = [
  ['v2', { version: 2 }, []],
  // hybrid, as on this project's CI machine: name=systemd, and a cgroup2 mount with no controller (systemd's)
  ['v1 hybrid', { version: 1, tracking: ['systemd', 'unified'] }, ['unified']],
  // legacy: name=systemd only
  ['v1 legacy', { version: 1, tracking: ['systemd'] }, ['systemd']],
  // no init tracking anything (a container's own v1 mounts, say)
  ['v1 bare', { version: 1 }, []],
];

for (const [name, options, services] of LAYOUTS) {
  cgroupContract(`${name} fake tree`, async () => {
    const { fake, driver } = await fakeDriver(options);
    let nextPid = 40_000;
    return {
      driver,
      project: 'shop',
      cpus: [0, 1],
      services: services.map((h) => join(fake.root, h)),
      spawn: async () => nextPid++,
      cleanup: async () => fake.dispose(),
    };
  });
}
