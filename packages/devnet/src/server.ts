import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Hex } from 'viem';
import { RpcError, type Devnet } from './devnet.ts';
import { isServedMethod } from './surface.ts';

/** Largest JSON-RPC body the server reads, in bytes. */
const MAX_BODY = 8 * 1024 * 1024;

interface JsonRpcReq { jsonrpc?: string; id?: unknown; method?: unknown; params?: unknown }

async function answer(devnet: Devnet, req: JsonRpcReq, plainEvm = false): Promise<object> {
  const id = req.id ?? null;
  if (typeof req.method !== 'string') return { jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid request: method must be a string' } };
  if (!isServedMethod(req.method, { geodeMethods: !plainEvm })) {
    // -32601 is JSON-RPC 2.0's "Method not found"; test and account methods are not part of the network surface.
    return {
      jsonrpc: '2.0', id,
      error: { code: -32601, message: `Method ${req.method} is not served over the devnet's RPC. It serves the standard eth_*, net_*, web3_* read and eth_sendRawTransaction methods and geode_* (see docs/security.md#devnet-rpc-surface); test methods work only in-process.` },
    };
  }
  if (req.method === 'eth_accounts') return { jsonrpc: '2.0', id, result: [] };
  try {
    const result = await devnet.request({ method: req.method, params: (req.params as unknown[]) ?? [] });
    return { jsonrpc: '2.0', id, result: result ?? null };
  } catch (e) {
    if (e instanceof RpcError) return { jsonrpc: '2.0', id, error: { code: e.code, message: e.message, data: e.data } };
    const code = (e as { code?: unknown }).code;
    return { jsonrpc: '2.0', id, error: { code: -32000, message: e instanceof Error ? e.message : String(e), data: typeof code === 'string' ? { code } : undefined } };
  }
}

async function handleBody(devnet: Devnet, body: string, plainEvm = false): Promise<object | object[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: body is not JSON' } };
  }
  if (Array.isArray(parsed)) return Promise.all(parsed.map((r) => answer(devnet, r as JsonRpcReq, plainEvm)));
  return answer(devnet, parsed as JsonRpcReq, plainEvm);
}

/** A devnet exposed over HTTP and WebSocket JSON-RPC on loopback. */
export interface DevnetServer {
  /** http://host:port */
  url: string;
  /** ws://host:port (same port; eth_subscribe pushes notifications) */
  wsUrl: string;
  close(): Promise<void>;
}

/**
 * Serve `devnet` on `host:port` (default 127.0.0.1 and an ephemeral port when port is 0). With `plainEvm`, the
 * geode_* methods are hidden so the endpoint behaves like any other EVM node.
 * Only the methods of SERVED_METHODS (surface.ts) and geode_* are answered; every other method (hardhat_*, evm_*,
 * debug_*, personal_*, eth_sendTransaction, ...) gets JSON-RPC error -32601 and reaches the chain not at all.
 * HTTP POST and WebSocket both speak JSON-RPC 2.0 (single and batch). Over WebSocket, eth_subscribe
 * (newHeads, logs) pushes `eth_subscription` notifications.
 */
export async function serveDevnet(devnet: Devnet, opts: { host?: string; port?: number; plainEvm?: boolean } = {}): Promise<DevnetServer> {
  // plainEvm hides the geode_* methods, so the devnet looks like any EVM node (tests of --rpc against other networks).
  const plain = !!opts.plainEvm;
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'POST JSON-RPC requests' }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', async () => {
      const out = await handleBody(devnet, Buffer.concat(chunks).toString('utf8'), plain);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
    });
  });
  const wss = new WebSocketServer({ server, maxPayload: MAX_BODY });
  // ws re-emits the HTTP server's errors (a taken port) on itself; the listen promise below reports them, so an
  // unhandled 'error' here must not crash the process.
  wss.on('error', () => {});
  const internal = devnet as Devnet & { _subscribe(params: unknown[], route: (r: unknown) => void): Promise<Hex>; _unsubscribe(id: Hex): Promise<void> };
  wss.on('connection', (ws: WebSocket) => {
    const subs = new Set<Hex>();
    ws.on('message', async (data) => {
      const text = data.toString();
      let req: JsonRpcReq;
      try {
        req = JSON.parse(text) as JsonRpcReq;
      } catch {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
        return;
      }
      if (!Array.isArray(req) && req.method === 'eth_subscribe') {
        try {
          const id = await internal._subscribe((req.params as unknown[]) ?? [], (result) => {
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: id, result } }));
          });
          subs.add(id);
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id ?? null, result: id }));
        } catch (e) {
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id ?? null, error: { code: -32000, message: String(e) } }));
        }
        return;
      }
      if (!Array.isArray(req) && req.method === 'eth_unsubscribe') {
        const id = ((req.params as unknown[]) ?? [])[0] as Hex;
        const had = subs.delete(id);
        if (had) await internal._unsubscribe(id);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id ?? null, result: had }));
        return;
      }
      ws.send(JSON.stringify(await handleBody(devnet, text, plain)));
    });
    ws.on('close', () => {
      for (const id of subs) void internal._unsubscribe(id);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host; // IPv6 literals go in brackets in a URL (RFC 3986)
  return {
    url: `http://${hostPart}:${port}`,
    wsUrl: `ws://${hostPart}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        // Idle keep-alive sockets would otherwise stay open and leave clients waiting on a server that is gone.
        server.closeAllConnections();
      }),
  };
}
