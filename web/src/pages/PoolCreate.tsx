// Placeholder: this page is being built in this session.
export function PoolCreate(_props: Record<string, unknown>) { return <p>PoolCreate</p>; }
