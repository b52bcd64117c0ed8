// The OCR playground: read an image with one of the tenant's API keys (a real, metered call
// of one unit) and see the detected lines drawn over it, with the text beside it.
import { useEffect, useState, type FormEvent } from "react";
import { callWithCredential, type Schemas } from "../api/client";
import { ErrorLine, useAction } from "../components/ui";

export function Playground() {
  const [key, setKey] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [result, setResult] = useState<Schemas["OcrResult"] | null>(null);
  const { busy, error, run } = useAction();

  useEffect(() => {
    setResult(null);
    if (!file) return;
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!file) return;
    setResult(null);
    await run(async () => {
      setResult(
        await callWithCredential<Schemas["OcrResult"]>("/v1/ocr", {
          method: "POST",
          headers: { "X-API-Key": key.trim(), "Content-Type": file.type || "application/octet-stream" },
          body: file,
        }),
      );
    });
  }

  return (
    <section aria-labelledby="pg-title">
      <h1 id="pg-title">OCR playground</h1>
      <p className="muted">
        Each read is a real call to <code>POST /v1/ocr</code> with the key you give, metered like any other (one unit per
        image). The key stays in this page only.
      </p>
      <form onSubmit={submit} aria-label="Read an image" className="card">
        <label>
          API key (with ocr:read)
          <input
            type="password"
            autoComplete="one-time-code"
            spellCheck={false}
            required
            value={key}
            onChange={(e) => setKey(e.target.value)}
          />
        </label>
        <label>
          Image (PNG, JPEG, WebP, TIFF, BMP)
          <input type="file" accept="image/*" required onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <ErrorLine error={error} />
        <button type="submit" disabled={busy || !file}>
          {busy ? "Reading…" : "Read text"}
        </button>
      </form>
      {result && preview && (
        <div className="playground">
          <figure>
            <div className="overlay" style={{ aspectRatio: `${result.width} / ${result.height}` }}>
              <img src={preview} alt="The uploaded image" />
              <svg viewBox={`0 0 ${result.width} ${result.height}`} aria-hidden="true" data-testid="ocr-boxes">
                {result.lines.map((l, i) => (
                  <polygon key={i} points={l.box.map((p) => p.join(",")).join(" ")} />
                ))}
              </svg>
            </div>
            <figcaption className="muted">
              {result.lines.length} line{result.lines.length === 1 ? "" : "s"} found by {result.model} in{" "}
              {Math.round(result.timing.total_ms)} ms; {result.usage.units} unit charged.
            </figcaption>
          </figure>
          <div>
            <h2>Text</h2>
            <pre data-testid="ocr-text">{result.text}</pre>
            <ol>
              {result.lines.map((l, i) => (
                <li key={i}>
                  {l.text} <span className="muted">({Math.round(l.confidence * 100)}%)</span>
                </li>
              ))}
            </ol>
          </div>
        </div>
      )}
    </section>
  );
}
