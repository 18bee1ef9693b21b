// The contract between a workspace (one per task type) and the pages that
// host it: the annotator's work loop, returned work, and the reviewer desk.
import type { Anchor, Comment, Pool, Result, Task } from "../api";

export interface WorkspaceProps {
  pool: Pool;
  task: Task;
  /** The result being edited (null: start from scratch / drafts). */
  value: Result | null;
  onChange: (r: Result) => void;
  /** Reviewer desk and history: shown, not editable. */
  readOnly?: boolean;
  /** Reviewer comments to show where they are anchored. */
  comments?: Comment[];
  /** Reviewer desk: the current selection (a box or a text span) to anchor a comment to. */
  onAnchor?: (a: Anchor) => void;
  /** The previous round's result, to show what changed (reviewer desk). */
  previous?: Result | null;
  /** The project's guidelines (Markdown); the reference workspace shows them beside the editor. */
  guidelines?: string;
}

/**
 * Checks a result before it is sent: null when it can be submitted, else a
 * readable reason (the server checks again).
 */
export type Validate = (pool: Pool, result: Result | null) => string | null;
