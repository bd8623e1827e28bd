/**
 * A validator that did not hold. Not a KilnError: `any` catches these to try its next alternative,
 * and the report lists them with the spec position of the validator that failed.
 */
import { formatPos, type NodeBase } from './types.js';

export class ValidationFailure extends Error {
  constructor(
    readonly node: NodeBase,
    message: string,
    /** Command output that explains the failure (tail of stdout/stderr). */
    readonly detail: string | undefined = undefined,
    /** For `any`: why each alternative failed in the last pass. */
    readonly causes: readonly ValidationFailure[] = [],
  ) {
    super(message);
    this.name = 'ValidationFailure';
  }

  /** `spec.yaml:12:5: validators[2].package: not installed: curl` */
  get where(): string {
    return `${formatPos(this.node.pos)}: ${this.node.path}`;
  }
}

export function isValidationFailure(e: unknown): e is ValidationFailure {
  return e instanceof ValidationFailure;
}

/** The last lines of a command's output, for a failure's detail. */
export function outputTail(stdout: string, stderr: string, lines = 15): string | undefined {
  const all = `${stdout}\n${stderr}`.split('\n').filter((l) => l.trim() !== '');
  return all.length === 0 ? undefined : all.slice(-lines).join('\n');
}
