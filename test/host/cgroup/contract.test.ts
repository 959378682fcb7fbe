import { cgroupContract } from './contract.js';
import { fakeDriver } from './fixtures.js';

for (const version of [1, 2] as const) {
  cgroupContract(`v${version} fake tree`, async () => {
    const { fake, driver } = await fakeDriver({ version });
    let nextPid = 40_000;
    return {
      driver,
      project: 'shop',
      cpus: [0, 1],
      spawn: async () => nextPid++,
      cleanup: async () => fake.dispose(),
    };
  });
}
