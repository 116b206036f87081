import { main } from '../src/commands/index.js';

/** Runs the CLI inside this process (sharing its engine) and captures what it prints. */
export async function cliInProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    out: (text: string) => {
      stdout += `${text}\n`;
    },
    err: (text: string) => {
      stderr += `${text}\n`;
    },
  };
  const code = await main(args, io, env);
  return { code, stdout, stderr };
}
