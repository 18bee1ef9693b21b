// The app shell: sign-in gate, navigation by role, and the page routes.
import { useEffect, useState } from "preact/hooks";
import { Api, hasToken, setToken, setUnauthorizedHandler, type Me } from "./api";
import { ErrorBox, Loading } from "./components";
import { asApiError } from "./lib/hooks";
import { linkProps, match, navigate, usePath } from "./lib/router";
import { Earnings } from "./pages/Earnings";
import { Home } from "./pages/Home";
import { Login } from "./pages/Login";
import { PoolDashboard } from "./pages/PoolDashboard";
import { PoolCreate } from "./pages/PoolCreate";
import { ProjectPage, Projects } from "./pages/Projects";
import { Returned, ReturnedItem } from "./pages/Returned";
import { Standing } from "./pages/Standing";
import { Profile, Profiles } from "./pages/Profile";
import { Trial } from "./pages/Trial";
import { ReviewDesk, ReviewQueue } from "./pages/Review";
import { Work } from "./pages/Work";
import { hasRole, SessionContext, type Session } from "./session";

type Route = { pattern: string; render: (p: Record<string, string>) => preact.JSX.Element };

const ROUTES: Route[] = [
  { pattern: "/", render: () => <Home /> },
  { pattern: "/work/:pool", render: (p) => <Work poolId={Number(p.pool)} /> },
  { pattern: "/returned", render: () => <Returned /> },
  { pattern: "/returned/:id", render: (p) => <ReturnedItem submissionId={Number(p.id)} /> },
  { pattern: "/earnings", render: () => <Earnings /> },
  { pattern: "/standing", render: () => <Standing /> },
  { pattern: "/profile", render: () => <Profile /> },
  { pattern: "/trial/:pool", render: (p) => <Trial poolId={Number(p.pool)} /> },
  { pattern: "/profiles", render: () => <Profiles /> },
  { pattern: "/review", render: () => <ReviewQueue /> },
  { pattern: "/review/:pool", render: (p) => <ReviewDesk poolId={Number(p.pool)} /> },
  { pattern: "/projects", render: () => <Projects /> },
  { pattern: "/projects/:id", render: (p) => <ProjectPage projectId={Number(p.id)} /> },
  { pattern: "/projects/:id/new-pool", render: (p) => <PoolCreate projectId={Number(p.id)} /> },
  { pattern: "/pools/:id", render: (p) => <PoolDashboard poolId={Number(p.id)} /> },
];

function NavLink({ href, children }: { href: string; children: string }) {
  const path = usePath();
  const current = href === "/" ? path === "/" : path.startsWith(href);
  return (
    <a {...linkProps(href)} aria-current={current ? "page" : undefined}>
      {children}
    </a>
  );
}

function Shell({ session }: { session: Session }) {
  const path = usePath();
  const { me } = session;
  let page: preact.JSX.Element | null = null;
  for (const r of ROUTES) {
    const params = match(r.pattern, path);
    if (params) {
      page = r.render(params);
      break;
    }
  }
  return (
    <SessionContext.Provider value={session}>
      <header class="topbar">
        <a class="brand" {...linkProps("/")}>
          Tessera
        </a>
        <nav aria-label="Main">
          {hasRole(me, "annotator") && <NavLink href="/">Work</NavLink>}
          {hasRole(me, "annotator") && <NavLink href="/returned">Returned</NavLink>}
          {hasRole(me, "annotator") && <NavLink href="/earnings">Earnings</NavLink>}
          {hasRole(me, "annotator") && <NavLink href="/standing">Standing</NavLink>}
          {hasRole(me, "annotator") && <NavLink href="/profile">Profile</NavLink>}
          {hasRole(me, "reviewer") && <NavLink href="/review">Review</NavLink>}
          {hasRole(me, "reviewer") && <NavLink href="/profiles">Profiles</NavLink>}
          {hasRole(me, "requester") && <NavLink href="/projects">Projects</NavLink>}
        </nav>
        <div class="spacer" />
        <span class="muted" aria-label="Signed in as">
          {me.username} · {me.roles.join(", ")}
        </span>
        <button type="button" onClick={() => void session.signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">{page ?? <NotFound />}</main>
    </SessionContext.Provider>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <a {...linkProps("/")}>Back to the start page</a>
      </p>
    </section>
  );
}

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(hasToken());
  const [error, setError] = useState<string | null>(null);

  const refresh = async () => {
    try {
      setMe(await Api.me());
      setError(null);
    } catch (e) {
      const err = asApiError(e);
      if (err.status !== 401) setError(err.readable);
    }
  };

  useEffect(() => {
    setUnauthorizedHandler(() => setMe(null));
    if (hasToken()) void refresh().finally(() => setChecking(false));
  }, []);

  if (checking) return <Loading what="Signing in" />;
  if (!me) {
    return (
      <>
        <ErrorBox error={error} />
        <Login
          onSignedIn={async () => {
            await refresh();
            if (location.pathname === "/login") navigate("/", true);
          }}
        />
      </>
    );
  }
  const session: Session = {
    me,
    refresh,
    signOut: async () => {
      try {
        await Api.logout();
      } catch {
        // Signed out locally either way.
      }
      setToken(null);
      setMe(null);
      navigate("/", true);
    },
  };
  return <Shell session={session} />;
}
