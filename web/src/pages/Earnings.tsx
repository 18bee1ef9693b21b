// The annotator's earnings: balance, what each pool paid per hour of active
// work, and the ledger entries.
import { Api } from "../api";
import { ErrorBox, Loading } from "../components";
import { formatDate, formatDuration, formatMoney } from "../lib/format";
import { useLoad } from "../lib/hooks";

export function Earnings() {
  const e = useLoad(() => Api.earnings(), []);
  if (e.error && !e.data) return <ErrorBox error={e.error} onRetry={e.reload} />;
  if (!e.data) return <Loading what="Loading earnings" />;
  const { balance, balances, entries, pools = [] } = e.data;
  return (
    <section>
      <h1>Earnings</h1>
      <div class="stats">
        <div class="stat">
          <div class="value" aria-label="Balance">
            {formatMoney(balance)}
          </div>
          <div class="label">Balance</div>
        </div>
        {balances
          .filter((b) => b.currency !== balance.currency)
          .map((b) => (
            <div class="stat" key={b.currency}>
              <div class="value">{formatMoney(b)}</div>
              <div class="label">Balance in {b.currency}</div>
            </div>
          ))}
      </div>
      <h2>By pool</h2>
      {pools.length === 0 ? (
        <p class="muted">No accepted work yet.</p>
      ) : (
        <table aria-label="Earnings by pool">
          <thead>
            <tr>
              <th>Pool</th>
              <th class="num">Accepted</th>
              <th class="num">Earned</th>
              <th class="num">Active time</th>
              <th class="num">Per hour</th>
              {pools.some((p) => p.topups && p.topups.amount_minor > 0) && <th class="num">Floor top-ups</th>}
            </tr>
          </thead>
          <tbody>
            {pools.map((p) => (
              <tr key={p.pool_id}>
                <td>{p.pool_name}</td>
                <td class="num">{p.accepted}</td>
                <td class="num">{formatMoney(p.earned)}</td>
                <td class="num">{formatDuration(p.active_seconds)}</td>
                <td class="num">{p.hourly ? formatMoney(p.hourly) : "—"}</td>
                {pools.some((x) => x.topups && x.topups.amount_minor > 0) && <td class="num">{formatMoney(p.topups)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Entries</h2>
      {entries.length === 0 ? (
        <p class="muted">No entries yet.</p>
      ) : (
        <table aria-label="Ledger entries">
          <thead>
            <tr>
              <th>When</th>
              <th>Kind</th>
              <th>Memo</th>
              <th class="num">Amount</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((x) => (
              <tr key={x.id}>
                <td>{formatDate(x.created_at)}</td>
                <td>{x.kind.replace(/_/g, " ")}</td>
                <td>{x.memo}</td>
                <td class="num">{formatMoney(x.amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
