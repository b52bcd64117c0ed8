// Small shared pieces: the error line, loading and empty states, a copy button, and a
// hook for data a page loads.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { messageOf } from "../api/client";

export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {messageOf(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="secondary"
      aria-label={label}
      onClick={async () => {
        await navigator.clipboard.writeText(text).catch(() => undefined);
        setDone(true);
      }}
    >
      {done ? "Copied" : "Copy"}
    </button>
  );
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` on mount (and on `reload`), keeping the last data, error and a loading flag. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setLoading(true);
    run()
      .then((d) => live && (setData(d), setError(null)))
      .catch((e) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [run, tick]);
  return { data, error, loading, reload: () => setTick((t) => t + 1) };
}

export interface Action {
  busy: boolean;
  error: unknown;
  setError: (e: unknown) => void;
  /** Runs `work` with `busy` set, keeping what it throws in `error`; true when it succeeded. */
  run: (work: () => Promise<void>) => Promise<boolean>;
}

/** The state of a form's submission: busy while it runs, its error after. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** A secret the API shows once: what it is, the value with a copy button, a dismiss button. */
export function SecretOnce({
  children,
  value,
  testId,
  copyLabel,
  done = "I have stored it",
  onDone,
}: {
  children: ReactNode;
  value: string;
  testId: string;
  copyLabel: string;
  done?: string;
  onDone: () => void;
}) {
  return (
    <div className="secret" role="status">
      <p>{children}</p>
      <p className="secret-value">
        <code data-testid={testId}>{value}</code> <CopyButton text={value} label={copyLabel} />
      </p>
      <button type="button" className="secondary" onClick={onDone}>
        {done}
      </button>
    </div>
  );
}
