// Drives the example page (`cargo run -p dingscope-examples --example web`) in headless
// Chromium and checks each step of the openAuth round trip. Prints one JSON line per step.
//
//   node browser.mjs http://127.0.0.1:8080/ [screenshot.png]
//
// CHROMIUM names the browser (default /usr/bin/chromium).
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
if (!url) {
  console.error("usage: node browser.mjs URL [screenshot.png]");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const failures = [];
const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));
// The page's 403s are expected; Chromium logs each as a failed resource.
page.on("console", (m) => {
  if (m.type() === "error" && !m.text().includes("status of 403")) {
    failures.push(`console error: ${m.text()}`);
  }
});
page.setDefaultTimeout(10_000);

function step(name, detail) {
  console.log(JSON.stringify({ step: name, ...detail }));
}

function expect(what, actual, wanted) {
  if (actual !== wanted) {
    throw new Error(`${what}: got ${JSON.stringify(actual)}, wanted ${JSON.stringify(wanted)}`);
  }
}

async function dialog() {
  const d = page.locator("#openauth-dialog");
  await d.waitFor({ state: "visible" });
  return {
    dialog: d,
    codes: await d.locator("code").textContent(),
    type: await d.locator(".type").textContent(),
  };
}

async function status(wanted) {
  await page.waitForFunction(
    (w) => document.getElementById("status")?.textContent === w,
    wanted,
  );
}

try {
  await page.goto(url);
  await page.locator("#leavers").waitFor();
  step("loaded", { title: await page.title() });

  // 1. A 403 with the denial; openAuth opens with its parameters; the admin refuses.
  await page.click("#leavers");
  let d = await dialog();
  expect("rpcScope asked", d.codes, "qyapi_hrm_read_user");
  expect("type asked", d.type, "1");
  step("denied, openAuth opened", { codes: d.codes, type: d.type });
  await d.dialog.locator('[data-choice="cancel"]').click();
  await status("cancel");
  await page.waitForFunction(() => document.getElementById("log").textContent.includes("not retried"));
  expect("leavers shown after cancel", await page.locator("#leaver-count").count(), 0);
  step("cancel", { retried: false });

  // 2. The user is no admin: the request goes to one.
  await page.click("#leavers");
  d = await dialog();
  await d.dialog.locator('[data-choice="toAdmin"]').click();
  await status("toAdmin");
  expect("leavers shown after toAdmin", await page.locator("#leaver-count").count(), 0);
  step("toAdmin", { retried: false });

  // 3. A closed dialog resolves as cancel.
  await page.click("#leavers");
  d = await dialog();
  await d.dialog.locator('[data-choice="close"]').click();
  await status("cancel");
  step("closed", { status: "cancel" });

  // 4. Granted: reported, retried, and the 120 leavers shown.
  await page.click("#leavers");
  d = await dialog();
  await d.dialog.locator('[data-choice="ok"]').click();
  await page.locator("#leaver-count").waitFor();
  expect("leavers", await page.locator("#leaver-count").textContent(), "120 employees have left.");
  expect("status", await page.locator("#status").textContent(), "ok");
  step("granted", { leavers: 120 });

  // 5. Now granted, the next call needs no openAuth.
  await page.click("#leavers");
  await page.waitForFunction(
    () => (document.getElementById("log").textContent.match(/200: done/g) || []).length === 2,
  );
  expect("dialog after grant", await page.locator("#openauth-dialog").count(), 0);
  step("no second openAuth", {});

  // 6. A delegated call: type 0 with its fieldScope; the user grants.
  await page.click("#me");
  d = await dialog();
  expect("codes asked of the user", d.codes, "Contact.User.Read, Contact.User.mobile");
  expect("type asked of the user", d.type, "0");
  expect("toAdmin offered for type 0", await d.dialog.locator('[data-choice="toAdmin"]').count(), 0);
  await d.dialog.locator('[data-choice="ok"]').click();
  await page.locator("#profile").waitFor();
  expect("profile", await page.locator("#profile").textContent(), "user001 (mock), mobile 13800000000");
  step("delegated granted", { profile: await page.locator("#profile").textContent() });

  if (screenshot) {
    await page.screenshot({ path: screenshot, fullPage: true });
    step("screenshot", { path: screenshot });
  }
  if (failures.length) throw new Error(failures.join("; "));
  step("done", {});
} catch (e) {
  console.log(JSON.stringify({ step: "failed", error: String(e && e.message ? e.message : e), failures }));
  console.error(await page.locator("#log").textContent().catch(() => ""));
  process.exitCode = 1;
} finally {
  await browser.close();
}
