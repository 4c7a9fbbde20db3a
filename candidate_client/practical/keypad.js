// The MDI keypad of the 0i-F (address/number keys with SHIFT, edit keys, function keys, page and cursor keys)
// and the computer keyboard: letters and digits go to the key-in buffer; Enter is INPUT on the offset pages
// and EOB on the program page; Backspace is CAN.

// [main, shifted] characters of the address and number keys, as on the small 0i-F keypad.
const ADDRESS = [["O", "P"], ["N", "Q"], ["G", "R"], ["7", "A"], ["8", "B"], ["9", "C"],
                 ["X", "U"], ["Y", "V"], ["Z", "W"], ["4", "["], ["5", "]"], ["6", " "],
                 ["M", "I"], ["S", "J"], ["T", "K"], ["1", ","], ["2", "#"], ["3", "="],
                 ["F", "L"], ["H", "D"], ["EOB", "E"], ["-", "+"], ["0", "*"], [".", "/"]];
const FUNCTION = [["POS", "screen.pos", "pos"], ["PROG", "screen.prog", "prog"], ["OFS", "screen.ofs", "ofs"],
                  ["MSG", "screen.msg", "msg"], ["GRAPH", "screen.graph", "graph"]];
const EDIT = [["ALTER", "key.alter"], ["INSERT", "key.insert"], ["DELETE", "key.delete"], ["CAN", "key.can"],
              ["INPUT", "key.input"], ["SHIFT", "key.shift"], ["RESET", "key.reset"]];
const MOVE = [["PAGE_UP", "key.page_up"], ["UP", "↑"], ["PAGE_DOWN", "key.page_down"], ["LEFT", "←"],
              ["DOWN", "↓"], ["RIGHT", "→"]];
const KEYBOARD = { Backspace: "CAN", Delete: "DELETE", Insert: "INSERT", ArrowUp: "UP", ArrowDown: "DOWN",
                   ArrowLeft: "LEFT", ArrowRight: "RIGHT", PageUp: "PAGE_UP", PageDown: "PAGE_DOWN" };
const TYPABLE = /^[A-Za-z0-9.\-+#[\]=/*,()]$/;

export class Keypad {
  constructor(root, screen, label) {
    Object.assign(this, { root, screen, label });
    this.shift = false;
    this.build();
    document.addEventListener("keydown", (event) => this.keyboard(event));
  }

  button(text, id, onClick, className = "key") {
    const button = document.createElement("button");
    button.type = "button";
    button.className = className;
    button.id = id;
    button.innerHTML = text;
    button.addEventListener("click", onClick);
    return button;
  }

  build() {
    const address = document.createElement("div");
    address.className = "keys-address";
    for (const [main, shifted] of ADDRESS) {
      const face = `${main === "EOB" ? "EOB" : main}<sub>${shifted.trim() || "SP"}</sub>`;
      address.append(this.button(face, `key-${keyName(main)}`, () => this.address(main, shifted)));
    }
    const edit = document.createElement("div");
    edit.className = "keys-edit";
    for (const [key, name] of EDIT) {      // the key's English face, as printed on the 0i-F, with the Chinese below
      const chinese = this.label(name) === key ? "" : `<small>${this.label(name)}</small>`;
      edit.append(this.button(`${key}${chinese}`, `key-${key.toLowerCase()}`, () => this.edit(key),
                              `key ${key === "RESET" ? "key-reset" : ""}`));
    }
    for (const [key, , page] of FUNCTION) {
      edit.append(this.button(key === "OFS" ? "OFS/SET" : key === "MSG" ? "MESSAGE" : key, `key-${page}`,
                              () => this.screen.showPage(page), "key key-function"));
    }
    const move = document.createElement("div");
    move.className = "keys-move";
    for (const [key, name] of MOVE) {
      move.append(this.button(name.startsWith("key.") ? this.label(name) : name, `key-${key.toLowerCase()}`,
                              () => this.screen.key(key)));
    }
    const hint = Object.assign(document.createElement("p"), { className: "keypad-hint", id: "keypad-hint",
                                                               textContent: this.label("key.hint") });
    this.root.replaceChildren(address, edit, move, hint);
  }

  address(main, shifted) {
    const character = this.shift ? shifted : main;
    this.setShift(false);
    if (character === "EOB") return this.screen.key("EOB");
    return this.screen.key("CHAR", character);
  }

  edit(key) {
    if (key === "SHIFT") return this.setShift(!this.shift);
    if (key === "INPUT") return this.screen.page === "ofs" ? this.screen.key("INPUT") : this.screen.key("INSERT");
    return this.screen.key(key);
  }

  setShift(on) {
    this.shift = on;
    this.root.querySelector("#key-shift").classList.toggle("on", on);
  }

  keyboard(event) {
    const target = event.target;
    if (target && (["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName) || target.isContentEditable)) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (event.key === "Enter") { event.preventDefault(); this.screen.enter(); return; }
    if (event.key === ";") { event.preventDefault(); this.screen.key("EOB"); return; }
    if (KEYBOARD[event.key]) { event.preventDefault(); this.screen.key(KEYBOARD[event.key]); return; }
    if (TYPABLE.test(event.key)) { event.preventDefault(); this.screen.key("CHAR", event.key.toUpperCase()); }
  }
}

function keyName(main) {
  return { ".": "dot", "-": "minus" }[main] || main.toLowerCase();
}
