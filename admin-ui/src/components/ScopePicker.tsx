// The scopes a tenant admin may grant, as checkboxes (operator is the platform's own).
export const GRANTABLE_SCOPES = ["ocr:read", "usage:read", "billing:read", "audit:read"] as const;

export function ScopePicker({ value, onChange }: { value: string[]; onChange: (v: string[]) => void }) {
  return (
    <fieldset>
      <legend>Scopes</legend>
      {GRANTABLE_SCOPES.map((s) => (
        <label key={s} className="inline">
          <input
            type="checkbox"
            checked={value.includes(s)}
            onChange={(e) => onChange(e.target.checked ? [...value, s] : value.filter((x) => x !== s))}
          />
          {s}
        </label>
      ))}
    </fieldset>
  );
}
