/** The shape of a validator type: one module per type, exporting its schema check and its run function. */
import type { Node } from 'yaml';
import type { RunContext } from '../context.js';
import type { SourcePos, ValidatorKind, ValidatorOf } from '../types.js';
import type { ParseContext, YNode } from '../yaml-nodes.js';

/** Where a validator was written: its type key (`- package: …`) and its document path. */
export interface NodeAt {
  readonly keyNode: Node;
  readonly pos: SourcePos;
  readonly path: string;
}

export interface ValidatorModule<K extends ValidatorKind> {
  readonly kind: K;
  /** Checks the value under the type key; reports problems on ctx and returns undefined when unusable. */
  parse(value: YNode, at: NodeAt, ctx: ParseContext): ValidatorOf<K> | undefined;
  /** Throws ValidationFailure when the target does not hold (test-only) or cannot be made to (reconcile). */
  run(v: ValidatorOf<K>, ctx: RunContext): Promise<void>;
}
