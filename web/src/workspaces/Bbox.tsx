// Placeholder: the bbox workspace is being built in this session.
import type { WorkspaceProps } from "./types";
export function BboxWorkspace(_p: WorkspaceProps) { return <p>bbox</p>; }
