/**
 * Two numbered versions of one thing (a plan's revisions, a tenant's generations) picked from
 * lists, and a Compare button. The form only reports the pair; the view fetches and shows the diff.
 */
export function CompareForm({
  noun,
  idPrefix,
  versions,
  from,
  to,
  onFrom,
  onTo,
  onCompare,
}: {
  /** "revision" or "generation": the labels read "From revision", "Compare revisions". */
  noun: string;
  idPrefix: string;
  versions: readonly number[];
  from: number;
  to: number;
  onFrom: (version: number) => void;
  onTo: (version: number) => void;
  onCompare: (from: number, to: number) => void;
}) {
  const picker = (side: 'from' | 'to', value: number, onChange: (version: number) => void) => (
    <div>
      <label for={`${idPrefix}-${side}`}>
        {side === 'from' ? 'From' : 'To'} {noun}
      </label>
      <select
        id={`${idPrefix}-${side}`}
        value={value}
        onChange={(e) => onChange(Number(e.currentTarget.value))}
      >
        {versions.map((version) => (
          <option key={version} value={version}>
            {version}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <form
      class="filters"
      aria-label={`Compare ${noun}s`}
      onSubmit={(e) => {
        e.preventDefault();
        onCompare(from, to);
      }}
    >
      {picker('from', from, onFrom)}
      {picker('to', to, onTo)}
      <div class="filter-actions">
        <button type="submit">Compare</button>
      </div>
    </form>
  );
}
