// `npm run bench`: every benchmark, one after the other (they time things, so never at once).
import { run as listAndLookup } from './list-and-lookup';

const BENCHES: [string, () => Promise<void>][] = [['list-and-lookup', listAndLookup]];

async function main() {
  for (const [name, run] of BENCHES) {
    console.log(`\n== ${name} ==`);
    await run();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
