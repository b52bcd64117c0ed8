// The portal is served by `tollgate serve` under /admin/ (deep links get index.html).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  base: "/admin/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/v1": "http://127.0.0.1:8080", "/oauth": "http://127.0.0.1:8080" } },
});
