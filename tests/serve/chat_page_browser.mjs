// Drives the chat page of `nativelm serve` in headless Chromium over the DevTools protocol, as a
// person would: types into the message box, presses Enter, waits for the streamed answer; and
// records every console message, page exception and network request on the way. Prints one JSON
// object for tests/serve/chat_page_test.cc to check. Needs only Node's WebSocket (Node 22, or
// Node 20 with --experimental-websocket) and a chromium binary.
//
// node chat_page_browser.mjs CHROMIUM PROFILE_DIR OPEN_URL KEYED_URL KEY PROMPT [SCREENSHOT.png]
//   OPEN_URL: a server without --api-key; KEYED_URL: one with --api-key KEY.
import {spawn} from 'node:child_process';
import {writeFileSync} from 'node:fs';

const [chromiumPath, profileDir, openUrl, keyedUrl, apiKey, prompt, screenshot] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const chromium = spawn(chromiumPath, [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--remote-debugging-port=0', `--user-data-dir=${profileDir}`, 'about:blank'],
  {stdio: ['ignore', 'ignore', 'pipe']});
const killAll = () => { try { chromium.kill('SIGKILL'); } catch (e) { /* gone already */ } };
const watchdog = setTimeout(() => { console.error('timed out'); killAll(); process.exit(3); }, 90000);

function fail(message) {
  console.error(message);
  killAll();
  process.exit(1);
}

const wsUrl = await new Promise((resolve, reject) => {
  let text = '';
  chromium.stderr.on('data', (d) => {
    text += d;
    const m = text.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  chromium.on('exit', (code) => reject(new Error(`chromium exited (${code}): ${text}`)));
}).catch((e) => fail(e.message));

// One browser connection; page targets are attached in flat mode (commands carry a sessionId).
const ws = new WebSocket(wsUrl);
await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('ws')); })
  .catch(() => fail('cannot connect to ' + wsUrl));
let nextId = 1;
const pending = new Map();
const listeners = [];
ws.onmessage = (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.id !== undefined) {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(JSON.stringify(msg.error))); else p.resolve(msg.result);
  } else {
    for (const l of listeners) l(msg);
  }
};
function send(method, params = {}, sessionId = undefined) {
  const id = nextId++;
  ws.send(JSON.stringify({id, method, params, sessionId}));
  return new Promise((resolve, reject) => pending.set(id, {resolve, reject}));
}

async function openPage() {
  const {targetId} = await send('Target.createTarget', {url: 'about:blank'});
  const {sessionId} = await send('Target.attachToTarget', {targetId, flatten: true});
  const page = {sessionId, console: [], exceptions: [], log: [], requests: [], responses: []};
  let loaded = null;
  listeners.push((msg) => {
    if (msg.sessionId !== sessionId) return;
    const p = msg.params;
    if (msg.method === 'Runtime.consoleAPICalled')
      page.console.push({type: p.type, text: p.args.map((a) => a.value ?? a.description ?? '').join(' ')});
    else if (msg.method === 'Runtime.exceptionThrown')
      page.exceptions.push(p.exceptionDetails.exception?.description ?? p.exceptionDetails.text);
    else if (msg.method === 'Log.entryAdded')
      page.log.push({level: p.entry.level, source: p.entry.source, text: p.entry.text});
    else if (msg.method === 'Network.requestWillBeSent')
      page.requests.push({url: p.request.url, method: p.request.method, headers: p.request.headers,
                          body: p.request.postData ?? null});
    else if (msg.method === 'Network.responseReceived')
      page.responses.push({url: p.response.url, status: p.response.status, mime: p.response.mimeType});
    else if (msg.method === 'Page.loadEventFired' && loaded) loaded();
  });
  page.cmd = (method, params = {}) => send(method, params, sessionId);
  page.eval = async (expression) => {
    const r = await page.cmd('Runtime.evaluate', {expression, returnByValue: true, awaitPromise: true});
    if (r.exceptionDetails) throw new Error('evaluate: ' + (r.exceptionDetails.exception?.description ?? r.exceptionDetails.text));
    return r.result.value;
  };
  page.waitFor = async (expression, what, ms = 30000) => {
    for (let t = 0; t < ms; t += 50) {
      const v = await page.eval(expression);
      if (v) return v;
      await sleep(50);
    }
    throw new Error('waited in vain for ' + what);
  };
  for (const domain of ['Runtime', 'Log', 'Page', 'Network']) await page.cmd(domain + '.enable');
  page.goto = async (url) => {
    const done = new Promise((r) => { loaded = r; });
    await page.cmd('Page.navigate', {url});
    await done;
  };
  // Typing: text as an input method would insert it, then a real Enter key press.
  page.type = (text) => page.cmd('Input.insertText', {text});
  page.key = async (key, modifiers = 0) => {
    const codes = {Enter: 13, Escape: 27};
    const base = {key, code: key, windowsVirtualKeyCode: codes[key], nativeVirtualKeyCode: codes[key], modifiers};
    await page.cmd('Input.dispatchKeyEvent', {type: 'keyDown', ...base, text: key === 'Enter' ? '\r' : undefined});
    await page.cmd('Input.dispatchKeyEvent', {type: 'keyUp', ...base});
  };
  return page;
}

// The last message in the conversation once it is no longer streaming.
const lastAnswer = `(() => {
  const all = document.querySelectorAll('#log .msg');
  const m = all[all.length - 1];
  if (!m || m.dataset.state === 'streaming') return null;
  return {state: m.dataset.state || '', text: m.textContent, className: m.className, dir: m.getAttribute('dir'),
          messages: all.length, notes: [...document.querySelectorAll('#log .note')].map((n) => n.textContent)};
})()`;

// The SSE reader in the page, fed the same stream cut at every byte: two pieces per cut, and also
// one byte per read. Every way must give the events of the whole.
const sseSplitCheck = `(() => {
  const text = 'data: {"a":"Kaixo, zer moduz?"}\\n\\n: comment\\r\\ndata: {"b":"你好，世界"}\\r\\n\\r\\n' +
               'data: {"c":"مرحبا"}\\ndata: second line\\n\\ndata: [DONE]\\n\\n';
  const bytes = new TextEncoder().encode(text);
  const whole = (() => { const p = makeSseParser(); return [...p.push(bytes), ...p.end()]; })();
  const same = (a) => JSON.stringify(a) === JSON.stringify(whole);
  let cuts = 0, bad = [];
  for (let i = 0; i <= bytes.length; ++i) {
    const p = makeSseParser();
    const got = [...p.push(bytes.slice(0, i)), ...p.push(bytes.slice(i)), ...p.end()];
    if (!same(got)) bad.push(i);
    ++cuts;
  }
  const p = makeSseParser();
  const bytewise = [];
  for (const b of bytes) bytewise.push(...p.push(new Uint8Array([b])));
  bytewise.push(...p.end());
  return {whole, cuts, bad, bytewise_ok: same(bytewise)};
})()`;

const result = {};
try {
  // ---- the check itself: a page that writes to the console and throws is caught ---------------
  const planted = await openPage();
  await planted.goto(`data:text/html,<script>console.error('planted');</script><script>null.x;</script>`);
  await sleep(200);
  result.planted = {console: planted.console.length, exceptions: planted.exceptions.length};

  // ---- a server without a key: the whole conversation flow ------------------------------------
  const page = await openPage();
  await page.goto(openUrl + '/');
  const open = {};
  open.title_before = await page.eval('document.title');
  open.model = await page.waitFor(`(() => { const t = document.getElementById('model').textContent;
      return t !== '…' && t !== 'loading…' ? t : null; })()`, 'the model name');
  open.title = await page.eval('document.title');
  // Shift+Enter adds a line and sends nothing.
  // Greedy, and short answers: the tiny model's context is 256 tokens for the whole conversation.
  await page.eval(`document.getElementById('temperature').value = '0';
                   document.getElementById('max-tokens').value = '16'`);
  await page.eval(`document.getElementById('prompt').focus()`);
  await page.type('x');
  await page.key('Enter', 8);
  open.after_shift_enter = await page.eval(`({value: document.getElementById('prompt').value,
      messages: document.querySelectorAll('#log .msg').length})`);
  await page.eval(`document.getElementById('prompt').value = ''`);
  // The prompt, typed, then Enter.
  await page.type(prompt);
  await page.key('Enter');
  open.first = await page.waitFor(lastAnswer, 'the first answer');
  open.user_text = await page.eval(`document.querySelector('#log .msg.user').textContent`);
  open.user_dir = await page.eval(`document.querySelector('#log .msg.user').getAttribute('dir')`);
  open.prompt_after = await page.eval(`document.getElementById('prompt').value`);
  // A second turn carries the first one, and a system prompt from the settings.
  await page.eval(`document.getElementById('settings-toggle').click();
                   document.getElementById('system').value = 'Be brief.';
                   document.getElementById('max-tokens').value = '5';
                   document.getElementById('prompt').focus()`);
  await page.type('Eskerrik asko!');
  await page.key('Enter');
  open.second = await page.waitFor(lastAnswer, 'the second answer');
  // Stop while it is being sent: the page says so and stays usable.
  open.stopped = await page.eval(`(async () => {
      document.getElementById('max-tokens').value = '';
      const done = send('Stop me'); stopAnswer(); await done;
      const all = document.querySelectorAll('#log .msg');
      return {state: all[all.length - 1].dataset.state, send_enabled: !document.getElementById('send').disabled,
              stop_enabled: !document.getElementById('stop').disabled};
  })()`);
  if (screenshot) {
    await page.cmd('Emulation.setDeviceMetricsOverride', {width: 900, height: 700, deviceScaleFactor: 1, mobile: false});
    const {data} = await page.cmd('Page.captureScreenshot', {format: 'png'});
    writeFileSync(screenshot, Buffer.from(data, 'base64'));
  }
  open.sse = await page.eval(sseSplitCheck);
  open.chat_requests = page.requests.filter((r) => r.url.endsWith('/v1/chat/completions'))
    .map((r) => ({body: JSON.parse(r.body), authorization: r.headers.Authorization ?? null}));
  open.chat_responses = page.responses.filter((r) => r.url.endsWith('/v1/chat/completions'));
  open.other_urls = page.requests.map((r) => r.url).filter((u) => !u.startsWith(openUrl + '/'));
  open.console = page.console;
  open.exceptions = page.exceptions;
  open.log = page.log;
  result.open = open;

  // ---- a server with --api-key: the page asks for the key and then uses it ---------------------
  const kpage = await openPage();
  await kpage.goto(keyedUrl + '/');
  const keyed = {};
  keyed.model_before = await kpage.waitFor(`(() => { const t = document.getElementById('model').textContent;
      return t !== '…' ? t : null; })()`, 'the key request');
  keyed.settings_shown = await kpage.eval(`!document.getElementById('settings').hidden`);
  keyed.key_focused = await kpage.eval(`document.activeElement.id`);
  await kpage.eval(`document.getElementById('prompt').focus()`);
  await kpage.type(prompt);
  await kpage.key('Enter');
  keyed.without_key = await kpage.waitFor(lastAnswer, 'the 401');
  await kpage.eval(`document.getElementById('api-key').focus()`);
  await kpage.type(apiKey);
  await kpage.eval(`document.getElementById('prompt').focus()`);  // the key field's change event
  keyed.model = await kpage.waitFor(`(() => { const t = document.getElementById('model').textContent;
      return t.startsWith('API key') ? null : t; })()`, 'the model name after the key');
  keyed.stored_key = await kpage.eval(`sessionStorage.getItem('nativelm-api-key')`);
  await kpage.type(prompt);
  await kpage.key('Enter');
  keyed.with_key = await kpage.waitFor(lastAnswer, 'the answer with the key');
  keyed.chat_authorization = kpage.requests.filter((r) => r.url.endsWith('/v1/chat/completions'))
    .map((r) => r.headers.Authorization ?? null);
  keyed.console = kpage.console;
  keyed.exceptions = kpage.exceptions;
  keyed.log = kpage.log;
  result.keyed = keyed;
} catch (e) {
  fail(e.stack || String(e));
}
try { await send('Browser.close'); } catch (e) { /* closing anyway */ }
clearTimeout(watchdog);
killAll();
console.log(JSON.stringify(result));
process.exit(0);
