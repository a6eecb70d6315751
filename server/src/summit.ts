// Entry point of the `summit` command (bin/summit.js runs the compiled copy).
import { runCli } from './cli.js';

await runCli(process.argv);
