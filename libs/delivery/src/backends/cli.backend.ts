import { spawn } from 'node:child_process';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  type FieldProblem,
  ForbiddenError,
  type Principal,
  Role,
  roleSatisfies,
} from '@app/core';
import { BoundedBuffer } from '../bounded-buffer.js';
import {
  DeliveryAttemptError,
  type DeliveryBackend,
  type DeliveryBackendInfo,
  DeliveryCancelledError,
  type DeliveryContext,
} from '../delivery-backend.js';
import { DeliveryMode, type DeliveryJobEntity, type DeliveryResult } from '../delivery-job.entity.js';
import { ParamsReader } from '../params-reader.js';

export const CLI_DELIVERY_DEFAULT_TIMEOUT_MS = 60_000;
export const CLI_DELIVERY_MAX_TIMEOUT_MS = 30 * 60_000;
/** Bytes kept of stdout and of stderr each; the rest is read and dropped so the program never blocks on a pipe. */
export const CLI_DELIVERY_MAX_OUTPUT_BYTES = 64 * 1024;
/** Between SIGTERM and SIGKILL to the whole process group. */
export const CLI_DELIVERY_KILL_GRACE_MS = 2_000;
/**
 * The child's whole environment: it must not inherit this process's (API keys, database URL, SD.Next password).
 * Allow-listed commands are absolute paths; PATH only serves `#!/usr/bin/env` lines and the program's own calls.
 */
const CHILD_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

const PLACEHOLDER = /\{prompt\}|\{negative\}/g;

interface CliParams {
  command: string;
  args: string[];
  stdin: boolean;
  timeoutMs?: number;
}

/** `{prompt}` and `{negative}` in each template argument become the text, inside that one argument. */
export function expandArgs(template: readonly string[], prompt: string, negative: string): string[] {
  // One pass with a replacer function: text that itself contains `{negative}` is never expanded again.
  return template.map((arg) => arg.replace(PLACEHOLDER, (m) => (m === '{prompt}' ? prompt : negative)));
}

/**
 * Template arguments (before any `--`) that the texts would turn into something starting with `-`: the program would
 * read prompt text such as `--evil-flag=1` as an option. Arguments the template itself starts with `-` are its own.
 */
export function optionLikeTextProblems(template: readonly string[], prompt: string, negative: string): FieldProblem[] {
  const problems = new Map<string, FieldProblem>();
  for (const arg of template) {
    if (arg === '--') break;
    if (arg.startsWith('-') || !expandArgs([arg], prompt, negative)[0].startsWith('-')) continue;
    const field = arg.startsWith('{negative}') ? 'negativePrompt' : 'prompt';
    problems.set(field, {
      field,
      message: `starts with "-", so the command would read it as an option: put "--" before "${arg}" in params.args, or pass the prompt on stdin (params.stdin)`,
    });
  }
  return [...problems.values()];
}

/**
 * Runs an allow-listed executable with an argument array — `spawn` with `shell: false`, so prompt text is never
 * parsed by a shell — in its own process group, so that a timeout or a cancel kills the program and its children
 * (SIGTERM, then SIGKILL after a grace period). A non-zero exit, a signal or a timeout fails the delivery without a
 * retry: the program may have done part of its work, and running it again could do it twice.
 */
@Injectable()
export class CliDeliveryBackend implements DeliveryBackend {
  readonly name = DeliveryMode.Cli;
  readonly safeToRerun = false;
  private readonly logger = new Logger(CliDeliveryBackend.name);
  private readonly commands: string[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.commands = config.delivery.cliCommands;
  }

  info(): DeliveryBackendInfo {
    return { name: this.name, allowList: [...this.commands], requiredRole: Role.Admin };
  }

  validate(params: Record<string, unknown>, principal: Principal): Record<string, unknown> {
    if (!roleSatisfies(principal.role, Role.Admin)) {
      throw new ForbiddenError('cli_delivery_forbidden', 'CLI deliveries need the admin role');
    }
    const reader = new ParamsReader(params, ['command', 'args', 'stdin', 'timeoutMs']);
    const command = reader.string('command', { required: true, maxLength: 4096 });
    if (command !== undefined && !this.commands.includes(command)) {
      reader.problem(
        'command',
        this.commands.length === 0
          ? 'is not allowed: no command is allow-listed (DELIVERY_CLI_COMMANDS)'
          : 'is not allowed: it must be exactly one of DELIVERY_CLI_COMMANDS',
      );
    }
    const args = reader.stringArray('args', { maxItems: 64, maxLength: 4096 }) ?? [];
    const argsCarryPrompt = args.some((arg) => arg.includes('{prompt}'));
    const stdinAsked = reader.bool('stdin');
    if (stdinAsked === false && !argsCarryPrompt) {
      reader.problem(
        'stdin',
        'is false and no argument holds "{prompt}", so the command would never get the prompt: leave stdin out (the prompt then goes to its standard input) or put "{prompt}" in params.args',
      );
    }
    // The prompt must reach the program: on stdin unless an argument carries it.
    const stdin = stdinAsked ?? !argsCarryPrompt;
    const timeoutMs = reader.int('timeoutMs', { min: 100, max: CLI_DELIVERY_MAX_TIMEOUT_MS });
    reader.done();
    const out: CliParams = { command: command as string, args, stdin };
    if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
    return { ...out };
  }

  textProblems(params: Record<string, unknown>, prompt: string, negativePrompt: string): FieldProblem[] {
    return optionLikeTextProblems((params as unknown as CliParams).args, prompt, negativePrompt);
  }

  async deliver(job: DeliveryJobEntity, context: DeliveryContext): Promise<DeliveryResult> {
    const params = job.params as unknown as CliParams;
    // Re-checked at run time: the allow-list may have shrunk since the job was queued.
    if (!this.commands.includes(params.command)) {
      throw new DeliveryAttemptError('command is no longer allow-listed (DELIVERY_CLI_COMMANDS)', false);
    }
    const optionLike = optionLikeTextProblems(params.args, job.prompt, job.negativePrompt ?? '');
    if (optionLike.length > 0) throw new DeliveryAttemptError(`${optionLike[0].field} ${optionLike[0].message}`, false);
    const args = expandArgs(params.args, job.prompt, job.negativePrompt ?? '');
    const timeoutMs = params.timeoutMs ?? CLI_DELIVERY_DEFAULT_TIMEOUT_MS;
    const run = await this.run(
      params.command,
      args,
      params.stdin ? job.prompt : null,
      job.id,
      timeoutMs,
      context.signal,
    );
    const result: DeliveryResult = {
      exitCode: run.exitCode,
      signal: run.signal,
      stdout: run.stdout.text(),
      stderr: run.stderr.text(),
      stdoutTruncated: run.stdout.truncated,
      stderrTruncated: run.stderr.truncated,
      timedOut: run.timedOut,
      durationMs: run.durationMs,
    };
    if (run.spawnError) throw new DeliveryAttemptError(`could not start the command: ${run.spawnError}`, false, result);
    if (run.cancelled)
      throw new DeliveryCancelledError('cancelled while the command ran; its process group was killed', result);
    if (run.timedOut) {
      throw new DeliveryAttemptError(
        `the command did not finish within ${timeoutMs} ms; its process group was killed`,
        false,
        result,
      );
    }
    if (run.exitCode !== 0) {
      const how =
        run.exitCode === null ? `was killed by ${run.signal ?? 'a signal'}` : `exited with code ${run.exitCode}`;
      throw new DeliveryAttemptError(`the command ${how}`, false, result);
    }
    return result;
  }

  private run(
    command: string,
    args: string[],
    stdinText: string | null,
    deliveryId: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<{
    exitCode: number | null;
    signal: string | null;
    stdout: BoundedBuffer;
    stderr: BoundedBuffer;
    timedOut: boolean;
    cancelled: boolean;
    spawnError: string | null;
    durationMs: number;
  }> {
    const started = Date.now();
    const stdout = new BoundedBuffer(CLI_DELIVERY_MAX_OUTPUT_BYTES);
    const stderr = new BoundedBuffer(CLI_DELIVERY_MAX_OUTPUT_BYTES);
    let timedOut = false;
    let cancelled = signal.aborted;
    return new Promise((resolve) => {
      if (cancelled) {
        resolve({ exitCode: null, signal: null, stdout, stderr, timedOut, cancelled, spawnError: null, durationMs: 0 });
        return;
      }
      const child = spawn(command, args, {
        shell: false,
        detached: true,
        stdio: [stdinText === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: { ...CHILD_ENV, LORA_DELIVERY_ID: deliveryId },
        windowsHide: true,
      });
      const pid = child.pid;
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (sig: NodeJS.Signals): void => {
        if (pid === undefined) return;
        try {
          process.kill(-pid, sig);
        } catch {
          // ESRCH: the group is already gone.
        }
      };
      const terminate = (): void => {
        if (killTimer) return;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), CLI_DELIVERY_KILL_GRACE_MS);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        terminate();
      }, timeoutMs);
      const onAbort = (): void => {
        cancelled = true;
        terminate();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      if (child.stdin) {
        // A program that exits without reading its stdin closes the pipe: EPIPE is its choice, not our failure.
        child.stdin.on('error', () => undefined);
        child.stdin.end(stdinText ?? '');
      }
      let spawnError: string | null = null;
      let settled = false;
      const settle = (code: number | null, sig: NodeJS.Signals | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        if (timedOut) this.logger.warn(`Delivery ${deliveryId}: command timed out after ${timeoutMs} ms`);
        resolve({
          exitCode: code,
          signal: sig,
          stdout,
          stderr,
          timedOut,
          cancelled,
          spawnError,
          durationMs: Date.now() - started,
        });
      };
      child.on('error', (error) => {
        spawnError = error.message;
        // Not started (ENOENT, EACCES): no 'close' is coming.
        if (child.pid === undefined) settle(null, null);
      });
      child.on('exit', () => {
        // Leftover children of the program would keep the pipes open; the delivery ends with its program.
        killGroup('SIGKILL');
      });
      child.on('close', (code, sig) => settle(code, sig));
    });
  }
}
