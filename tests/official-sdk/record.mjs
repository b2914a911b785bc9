// Developer tool, not a test: records what 1Password's official JS SDK (@1password/sdk 0.5.0) sends
// for the vault lifecycle (create, getOverview, update, updateGroupPermissions,
// grantGroupPermissions, revokeGroupPermissions, delete), so that the emulator's routes can be held
// to it. Run it against a running emulator:
//
//   cargo run -p opadmin-emulator --bin opadmin-emulator -- --port 8787
//   OP_SERVICE_ACCOUNT_TOKEN=ops_... OPADMIN_ROUTE_TO=127.0.0.1:8787 OPADMIN_GROUP=<group uuid> \
//     node tests/official-sdk/record.mjs
//
// (the emulator prints the token and the group uuid). Input, as for interop.mjs:
//   OP_SERVICE_ACCOUNT_TOKEN  the emulator's service-account token; never printed
//   OPADMIN_ROUTE_TO          host:port of the emulator's plain-http loopback listener
//   OPADMIN_GROUP             uuid of a group the service account may grant access to
//
// Output: one JSON line per request (`{"request": {method, path, query, status, answer}}`) and one
// per SDK call (`{"call": name, "ok": ..., "result" | "error": ...}`). Request bodies inside the
// session are encrypted by the SDK, so only their sizes are shown here; to read them, log the
// opened body on the emulator side for a run (a temporary `eprintln!` of `req.json` after
// `session::admit` in `crates/opadmin-emulator/src/server/mod.rs` was used; it is not kept).
// Each call runs even when an earlier one failed. Nothing leaves the machine: any request to another
// host than the token's sign-in address is refused.

import sdk from "@1password/sdk";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const token = env("OP_SERVICE_ACCOUNT_TOKEN");
const routeTo = env("OPADMIN_ROUTE_TO");
const groupId = env("OPADMIN_GROUP");

const signInAddress = JSON.parse(Buffer.from(token.slice(4), "base64url").toString("utf8")).signInAddress;

const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = input instanceof Request ? input : new Request(input, init);
  const url = new URL(request.url);
  if (url.host !== signInAddress && url.hostname !== signInAddress) {
    throw new Error(`refusing to send a request to ${url.host}: only ${signInAddress} is routed`);
  }
  url.protocol = "http:";
  url.host = routeTo;
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  const response = await realFetch(url, { method: request.method, headers: request.headers, body, redirect: "manual" });
  const text = await response.clone().text();
  let answer = text.slice(0, 300);
  try {
    const parsed = JSON.parse(text);
    // A sealed answer is an envelope: show only that it is one.
    answer = parsed && parsed.enc && parsed.data ? "<envelope>" : parsed;
  } catch {
    // not JSON: keep the text
  }
  print({
    request: {
      method: request.method,
      path: url.pathname,
      query: url.search,
      bodyBytes: body ? body.byteLength : 0,
      status: response.status,
      answer,
    },
  });
  return response;
};

async function call(name, fn) {
  try {
    const result = await fn();
    print({ call: name, ok: true, result: result === undefined ? null : result });
    return result;
  } catch (error) {
    print({ call: name, ok: false, error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}

const client = await sdk.createClient({
  auth: token,
  integrationName: "opadmin recorder",
  integrationVersion: "1.0.0",
});
print({ call: "createClient", ok: true });

const created = await call("vaults.create", () =>
  client.vaults.create({ title: "Recorded vault", description: "made by record.mjs" }),
);
const vaultId = created ? created.id : process.env.OPADMIN_VAULT;
if (vaultId) {
  await call("vaults.getOverview", () => client.vaults.getOverview(vaultId));
  await call("vaults.update", () =>
    client.vaults.update(vaultId, { title: "Recorded vault, renamed", description: "described again" }),
  );
  await call("vaults.getOverview (after update)", () => client.vaults.getOverview(vaultId));
  await call("vaults.grantGroupPermissions", () =>
    client.vaults.grantGroupPermissions(vaultId, [{ groupId, permissions: sdk.READ_ITEMS }]),
  );
  await call("vaults.updateGroupPermissions", () =>
    client.vaults.updateGroupPermissions([
      { vaultId, groupId, permissions: sdk.READ_ITEMS | sdk.REVEAL_ITEM_PASSWORD },
    ]),
  );
  await call("vaults.get (accessors)", () => client.vaults.get(vaultId, { accessors: true }));
  await call("vaults.revokeGroupPermissions", () => client.vaults.revokeGroupPermissions(vaultId, groupId));
  await call("vaults.delete", () => client.vaults.delete(vaultId));
  await call("vaults.list (after delete)", async () => (await client.vaults.list()).map((v) => v.title));
}

const noAdmins = await call("vaults.create (allowAdminsAccess: false)", () =>
  client.vaults.create({ title: "Recorded vault without administrators", allowAdminsAccess: false }),
);
if (noAdmins) await call("vaults.delete (the second)", () => client.vaults.delete(noAdmins.id));
process.exit(0);
