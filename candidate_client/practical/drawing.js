// The task's drawing (SVG from the server, candidate-scoped) beside the machine, with zoom (wheel, buttons)
// and pan (drag).

export class DrawingPanel {
  constructor(root, url, label) {
    this.root = root;
    this.scale = 1;
    this.offset = { x: 0, y: 0 };
    const bar = root.querySelector(".drawing-buttons");
    const add = (id, key, onClick) => {
      const b = Object.assign(document.createElement("button"), { type: "button", id, className: "vbtn", textContent: label(key) });
      b.addEventListener("click", onClick);
      bar.append(b);
    };
    add("drawing-zoom-in", "drawing.zoom_in", () => this.zoom(1.25));
    add("drawing-zoom-out", "drawing.zoom_out", () => this.zoom(0.8));
    add("drawing-fit", "drawing.fit", () => { this.scale = 1; this.offset = { x: 0, y: 0 }; this.apply(); });
    this.frame = root.querySelector(".drawing-frame");
    this.image = Object.assign(document.createElement("img"), { id: "drawing-image", alt: label("drawing.title"), src: url, draggable: false });
    this.frame.append(this.image);
    this.frame.addEventListener("wheel", (event) => { event.preventDefault(); this.zoom(Math.exp(-event.deltaY / 500)); }, { passive: false });
    let drag = null;
    this.frame.addEventListener("pointerdown", (event) => { drag = { x: event.clientX, y: event.clientY }; this.frame.setPointerCapture(event.pointerId); });
    this.frame.addEventListener("pointermove", (event) => {
      if (!drag) return;
      this.offset.x += event.clientX - drag.x;
      this.offset.y += event.clientY - drag.y;
      drag = { x: event.clientX, y: event.clientY };
      this.apply();
    });
    this.frame.addEventListener("pointerup", () => { drag = null; });
  }

  zoom(factor) {
    this.scale = Math.max(0.3, Math.min(12, this.scale * factor));
    this.apply();
  }

  apply() {
    this.image.style.transform = `translate(${this.offset.x}px, ${this.offset.y}px) scale(${this.scale})`;
  }
}
