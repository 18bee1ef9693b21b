// Picks the workspace of a pool's task type.
import type { TaskType } from "../api";
import { BboxWorkspace } from "./Bbox";
import { ClassifyWorkspace, PairwiseWorkspace, RatingWorkspace, ReferenceWorkspace, RewriteWorkspace } from "./Text";
import type { WorkspaceProps } from "./types";

const WORKSPACES: Record<TaskType, (p: WorkspaceProps) => preact.JSX.Element> = {
  bbox: BboxWorkspace,
  classify: ClassifyWorkspace,
  pairwise: PairwiseWorkspace,
  rating: RatingWorkspace,
  rewrite: RewriteWorkspace,
  reference: ReferenceWorkspace,
};

export function Workspace(props: WorkspaceProps) {
  const W = WORKSPACES[props.pool.task_type];
  return W ? <W {...props} /> : <p role="alert">Unknown task type {props.pool.task_type}.</p>;
}
