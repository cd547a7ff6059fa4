import express from "express";
import type { Server } from "node:http";

/** A site's webhook endpoint on 127.0.0.1 that keeps every payload it receives. */
export async function startWebhookSink() {
  const payloads: Record<string, unknown>[] = [];
  const app = express();
  app.use(express.text({ type: () => true }));
  app.post("/hook", (req, res) => {
    payloads.push(JSON.parse(req.body as string) as Record<string, unknown>);
    res.status(204).end();
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    payloads,
    of: (type: string) => payloads.filter((payload) => payload.type === type),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
