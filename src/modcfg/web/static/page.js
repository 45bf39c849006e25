// The configurator page: talks to the storefront API with the client-held session document.
// Counts arrive as strings of digits and money as decimal strings; neither is turned into a
// JavaScript number (counts may exceed 2**53), only grouped for display.
"use strict";

const root = document.body.dataset.root || "";
let catalog = null;
let session = null;
let busy = false;

function grouped(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function price(money) {
  return money ? `${money.currency} ${money.amount}` : "";
}

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "className") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function call(path, body) {
  const response = await fetch(`${root}/catalogs/${encodeURIComponent(catalog)}/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail || response.statusText);
  return data;
}

async function act(path, body) {
  if (busy) return;
  busy = true;
  document.body.classList.add("busy");
  document.getElementById("error").textContent = "";
  try {
    const data = await call(path, body);
    session = data.session;
    render(data.state);
    await showQuote(data.state);
  } catch (error) {
    document.getElementById("error").textContent = error.message;
  } finally {
    busy = false;
    document.body.classList.remove("busy");
    document.body.dataset.ready = "true";
  }
}

function render(state) {
  document.getElementById("count").textContent =
    `${grouped(state.count)} configuration${state.count === "1" ? "" : "s"}`;
  document.getElementById("count").dataset.count = state.count;
  document.getElementById("undo").disabled = !state.can_undo;
  const slots = document.getElementById("slots");
  slots.replaceChildren();
  for (const slot of state.slots) {
    const box = element("fieldset", { "data-slot": slot.slot }, element("legend", {}, slot.label));
    for (const option of slot.options) {
      const meta = option.status === "excluded"
        ? "" : `${grouped(option.count)} · from ${price(option.from_price)}`;
      const button = element(
        "button",
        {
          type: "button", className: "option", "data-module": option.module,
          "data-status": option.status, "data-count": option.count,
        },
        option.label, element("span", { className: "meta" }, meta),
      );
      if (option.reason) button.append(element("span", { className: "reason" }, option.reason));
      button.addEventListener("click", () => pick(slot, option));
      box.append(button);
    }
    slots.append(box);
  }
}

function pick(slot, option) {
  if (option.status === "excluded") {
    whyNot(slot.slot, option.module);
  } else if (option.status === "chosen") {
    act("unchoose", { session, slot: slot.slot, module: slot.multiple ? option.module : null });
  } else {
    act("choose", { session, slot: slot.slot, module: option.module });
  }
}

async function whyNot(slot, module) {
  const why = document.getElementById("why");
  try {
    const data = await call("why-not", { session, slot, module });
    why.replaceChildren(element("p", {}, data.text));
    why.dataset.option = data.option;
  } catch (error) {
    why.textContent = error.message;
  }
}

async function showQuote(state) {
  const box = document.getElementById("quote");
  if (!state.complete) {
    const range = state.price_range;
    box.replaceChildren(element("p", { id: "quote-range" },
      range ? `From ${price(range[0])} to ${price(range[1])}` : "No price yet"));
    box.dataset.total = "";
    return;
  }
  const quote = await call("quote", { session });
  const table = element("table", {});
  for (const line of quote.lines) {
    table.append(element("tr", {}, element("td", {}, line.label),
      element("td", { className: "amount" }, line.amount.amount)));
  }
  table.append(element("tr", { className: "total" }, element("td", {}, "Total"),
    element("td", { className: "amount", id: "quote-total" }, price(quote.total))));
  box.replaceChildren(table);
  box.dataset.total = quote.total.amount;
}

async function start(name) {
  catalog = name;
  session = null;
  document.getElementById("why").textContent =
    "Click a greyed-out option to see why it is excluded.";
  await act("sessions", {});
}

async function main() {
  const response = await fetch(`${root}/catalogs`);
  const catalogs = await response.json();
  const select = document.getElementById("catalog");
  for (const info of catalogs) {
    select.append(element("option", { value: info.name }, `${info.label} (${info.version})`));
  }
  const wanted = new URLSearchParams(window.location.search).get("catalog");
  if (wanted && catalogs.some((info) => info.name === wanted)) select.value = wanted;
  select.addEventListener("change", () => start(select.value));
  document.getElementById("undo").addEventListener("click", () => act("undo", { session }));
  document.getElementById("complete").addEventListener("click", () => act("complete", { session }));
  await start(select.value);
}

main();
