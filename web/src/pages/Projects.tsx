// Placeholder: this page is being built in this session.
export function Projects(_props: Record<string, unknown>) { return <p>Projects</p>; }
export function ProjectPage(_props: Record<string, unknown>) { return <p>ProjectPage</p>; }
