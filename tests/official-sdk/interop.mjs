// Drives 1Password's official JS SDK (@1password/sdk 0.5.0, pinned by package-lock.json) against the
// opadmin emulator. Started by tests/official_sdk.rs, which reads what this prints and checks each
// write with opadmin signed in as the account's administrator.
//
// Input (environment):
//   OP_SERVICE_ACCOUNT_TOKEN  the emulator's service-account token (`ops_...`); never printed
//   OPADMIN_ROUTE_TO          host:port of the emulator's plain-http loopback listener
//   OPADMIN_GROUP             uuid of a user-defined group the service account may manage
//   OPADMIN_VAULT             uuid of a vault the service account manages and the group cannot open
//   OPADMIN_STEPS             "all" (default), "sign-in" (stop after listing vaults), or
//                             "sa-access" (opadmin changes this service account's own access;
//                             see `saAccess` below)
//   OPADMIN_WATCH             for "sa-access": comma-separated uuids of the vaults opadmin gives
//                             this service account, the first of which it then changes and revokes
//   OPADMIN_STEPS=lifecycle   the SDK creates, renames, reads the overview of, sets group
//                             permissions on, and deletes a vault (see `lifecycle` below);
//                             OPADMIN_GROUP names the group
//
// Output: one JSON object per line on stdout, `{"event": ..., ...}`. After each write it prints the
// event and waits for one line on stdin before going on, so the driver can look at the account in
// between. On failure it prints `{"event": "error", ...}` and exits with status 1.
//
// The official SDK speaks https to the token's signInAddress. The emulator serves plain http on
// loopback, so `fetch` is wrapped: requests to the sign-in host go to OPADMIN_ROUTE_TO over http;
// any other destination is refused, so nothing leaves the machine.

import { createInterface } from "node:readline";
import sdk from "@1password/sdk";

const env = (name) => {
  const value = process.env[name];
  if (!value) fail(`environment variable ${name} is not set`);
  return value;
};

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

function fail(message, extra = {}) {
  emit("error", { message, ...extra });
  process.exit(1);
}

const token = env("OP_SERVICE_ACCOUNT_TOKEN");
const routeTo = env("OPADMIN_ROUTE_TO");
const steps = process.env.OPADMIN_STEPS || "all";

// The sign-in host, read from the token the same way the SDK reads it (base64url JSON after `ops_`).
const signInAddress = (() => {
  try {
    const claims = JSON.parse(Buffer.from(token.slice(4), "base64url").toString("utf8"));
    return claims.signInAddress;
  } catch {
    return fail("the service-account token does not decode");
  }
})();

// Every request the SDK makes, as "METHOD /path", for the driver's diagnostics.
const trace = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = input instanceof Request ? input : new Request(input, init);
  const url = new URL(request.url);
  if (url.host !== signInAddress && url.hostname !== signInAddress) {
    throw new Error(`refusing to send a request to ${url.host}: only ${signInAddress} is routed`);
  }
  url.protocol = "http:";
  url.host = routeTo;
  trace.push(`${request.method} ${url.pathname}`);
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  const response = await realFetch(url, { method: request.method, headers: request.headers, body, redirect: "manual" });
  if (!response.ok) {
    const text = await response.clone().text();
    trace.push(`  -> ${response.status} ${text.slice(0, 200)}`);
  }
  return response;
};

const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
async function waitForDriver() {
  const next = await lines.next();
  if (next.done) fail("the driver closed stdin");
}

const describe = (error) => (error instanceof Error ? error.message : String(error));

async function main() {
  let client;
  try {
    client = await sdk.createClient({
      auth: token,
      integrationName: "opadmin interop",
      integrationVersion: "1.0.0",
    });
  } catch (error) {
    fail(`sign-in failed: ${describe(error)}`, { stage: "sign-in", trace });
  }
  emit("signed-in");

  const vaults = await client.vaults.list();
  emit("vaults", { vaults: vaults.map((v) => ({ id: v.id, title: v.title })) });
  if (steps === "sign-in") return;
  if (steps === "sa-access") return saAccess(client);
  if (steps === "lifecycle") return lifecycle(client);

  const vaultId = env("OPADMIN_VAULT");
  const groupId = env("OPADMIN_GROUP");

  const vault = await client.vaults.get(vaultId, { accessors: true });
  emit("vault", {
    id: vault.id,
    title: vault.title,
    access: (vault.access || []).map((a) => ({
      accessorType: a.accessorType,
      accessorUuid: a.accessorUuid,
      permissions: a.permissions,
    })),
  });

  const group = await client.groups.get(groupId, { vaultPermissions: true });
  emit("group", {
    id: group.id,
    title: group.title,
    groupType: group.groupType,
    state: group.state,
    vaultAccess: (group.vaultAccess || []).map((a) => ({ vaultUuid: a.vaultUuid, permissions: a.permissions })),
  });

  const permissions = sdk.READ_ITEMS | sdk.REVEAL_ITEM_PASSWORD;
  await client.vaults.grantGroupPermissions(vaultId, [{ groupId, permissions }]);
  emit("granted", { vault: vaultId, group: groupId, permissions });
  await waitForDriver();

  await client.vaults.revokeGroupPermissions(vaultId, groupId);
  emit("revoked", { vault: vaultId, group: groupId });
  await waitForDriver();
}

// The service account's own access, changed by opadmin between the steps:
//  1. "waiting": opadmin grants this service account access to the vaults in OPADMIN_WATCH (re-wrapping
//     each vault key for its public key); then the SDK lists its vaults and opens each one's
//     overview ("vaults", "overview" per vault): 1Password's client decrypting keys and attributes that
//     opadmin wrapped and encrypted.
//  2. "listed": opadmin changes the permissions on the first vault (giving it Manage); the SDK reads that
//     vault's accessors ("accessors").
//  3. "read": opadmin revokes the access; the SDK lists again and tries the overview ("gone").
async function saAccess(client) {
  const watch = env("OPADMIN_WATCH").split(",");
  emit("waiting");
  await waitForDriver();

  const listed = await client.vaults.list();
  emit("vaults", { vaults: listed.map((v) => ({ id: v.id, title: v.title })) });
  for (const id of watch) {
    const o = await client.vaults.getOverview(id);
    emit("overview", { id: o.id, title: o.title, description: o.description, vaultType: o.vaultType });
  }
  emit("listed");
  await waitForDriver();

  const vault = await client.vaults.get(watch[0], { accessors: true });
  emit("accessors", {
    id: vault.id,
    title: vault.title,
    access: (vault.access || []).map((a) => ({
      accessorType: a.accessorType,
      accessorUuid: a.accessorUuid,
      permissions: a.permissions,
    })),
  });
  emit("read");
  await waitForDriver();

  const after = await client.vaults.list();
  let overviewError = null;
  try {
    await client.vaults.getOverview(watch[0]);
  } catch (error) {
    overviewError = describe(error);
  }
  emit("gone", { vaults: after.map((v) => ({ id: v.id, title: v.title })), overviewError });
}

// A vault's whole life through 1Password's SDK; after each write the driver looks at the account
// with opadmin before saying "go".
async function lifecycle(client) {
  const groupId = env("OPADMIN_GROUP");
  const created = await client.vaults.create({ title: "Interop Vault", description: "made by the official SDK" });
  emit("created", { id: created.id, title: created.title, description: created.description, vaultType: created.vaultType });
  await waitForDriver();

  const renamed = await client.vaults.update(created.id, { title: "Interop Vault (renamed)", description: "renamed by the official SDK" });
  emit("renamed", { id: renamed.id, title: renamed.title, description: renamed.description });
  await waitForDriver();

  const overview = await client.vaults.getOverview(created.id);
  emit("overview", { id: overview.id, title: overview.title, description: overview.description });

  // A group is granted access first; updateGroupPermissions changes an existing grant.
  const granted = sdk.READ_ITEMS;
  await client.vaults.grantGroupPermissions(created.id, [{ groupId, permissions: granted }]);
  emit("group-granted", { vault: created.id, group: groupId, permissions: granted });
  await waitForDriver();

  const permissions = sdk.READ_ITEMS | sdk.REVEAL_ITEM_PASSWORD | sdk.UPDATE_ITEMS;
  await client.vaults.updateGroupPermissions([{ vaultId: created.id, groupId, permissions }]);
  emit("group-permissions", { vault: created.id, group: groupId, permissions });
  await waitForDriver();

  await client.vaults.delete(created.id);
  emit("deleted", { id: created.id });
  await waitForDriver();
}

main()
  .then(() => {
    emit("done", { trace });
    process.exit(0);
  })
  .catch((error) => fail(describe(error), { trace }));
