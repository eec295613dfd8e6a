import { accountEventResource } from '../accounts/audit/account-event.serializer';
import { TrailEntry } from '../accounts/audit/account-history';
import { accountResource } from '../accounts/http/account.serializer';
import { Account } from '../accounts/domain/account';

// replay's readable form: one header row per event (a table over the whole trail), then the
// event's changes and the account's state after it, one attribute a line.

const COLUMNS = ['revision', 'occurred_at', 'event', 'actor', 'request'] as const;

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function row(entry: TrailEntry, accountId: string): string[] {
  const { attributes } = accountEventResource(accountId, entry);
  const actor = `${attributes.actor.organization_id}/${attributes.actor.environment} ${String(attributes.actor.api_key_id)}`;
  const request = attributes.correlation_id && attributes.correlation_id !== attributes.request_id ? `${String(attributes.request_id)} (correlation ${String(attributes.correlation_id)})` : String(attributes.request_id);
  return [String(attributes.revision), attributes.occurred_at, attributes.event_type, actor, request];
}

/** Pads each column to its widest cell. */
export function alignColumns(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((cells) => cells[column]?.length ?? 0)));
  return rows.map((cells) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ').trimEnd());
}

function pairs(title: string, values: Record<string, unknown>): string[] {
  const entries = Object.entries(values);
  if (entries.length === 0) return [`    ${title}: none`];
  return [`    ${title}:`, ...alignColumns(entries.map(([name, value]) => [name, show(value)])).map((line) => `      ${line}`)];
}

const attributesOf = (state: Account | null): Record<string, unknown> => (state ? { id: state.id, ...accountResource(state).attributes } : {});

/** The whole state after the first event; after each later one, what it changed (--json has every state in full). */
export function replayTable(accountId: string, steps: { entry: TrailEntry; state: Account | null }[]): string[] {
  const rows = alignColumns([[...COLUMNS], ...steps.map(({ entry }) => row(entry, accountId))]);
  const lines = [rows[0]];
  let before: Record<string, unknown> | null = null;
  steps.forEach(({ entry, state }, i) => {
    lines.push(rows[i + 1]);
    lines.push(...pairs('changes', accountEventResource(accountId, entry).attributes.changes));
    const after = attributesOf(state);
    if (before === null) lines.push(...pairs('state after', after));
    else {
      const previous = before;
      const changed = Object.fromEntries(Object.entries(after).filter(([name, value]) => show(value) !== show(previous[name])));
      lines.push(...pairs('state after (what changed; the rest as before)', changed));
    }
    before = after;
  });
  return lines;
}
