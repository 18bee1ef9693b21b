// Placeholder: this page is being built in this session.
export function PoolDashboard(_props: Record<string, unknown>) { return <p>PoolDashboard</p>; }
