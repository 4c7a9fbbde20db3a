// Orbit, pan and zoom for the 3D view with the mouse: left drag orbits about the target, right drag (or shift +
// left) pans, the wheel zooms. Small on purpose: three's OrbitControls addon imports the bare "three" name.
import * as THREE from "/client/vendor/three.module.js";

export class Orbit {
  constructor(camera, element, onChange) {
    Object.assign(this, { camera, element, onChange });
    this.target = new THREE.Vector3();
    this.spherical = new THREE.Spherical(400, Math.PI / 3, Math.PI / 4);
    let drag = null;
    element.addEventListener("contextmenu", (event) => event.preventDefault());
    element.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX, y: event.clientY, pan: event.button === 2 || event.shiftKey };
      element.setPointerCapture(event.pointerId);
    });
    element.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      drag.x = event.clientX;
      drag.y = event.clientY;
      if (drag.pan) this.pan(dx, dy); else this.rotate(dx, dy);
    });
    element.addEventListener("pointerup", () => { drag = null; });
    element.addEventListener("wheel", (event) => {
      event.preventDefault();
      this.spherical.radius = Math.max(20, Math.min(5000, this.spherical.radius * Math.exp(event.deltaY / 600)));
      this.update();
    }, { passive: false });
  }

  rotate(dx, dy) {
    this.spherical.theta -= dx * 0.008;
    this.spherical.phi = Math.max(0.05, Math.min(Math.PI - 0.05, this.spherical.phi - dy * 0.008));
    this.update();
  }

  pan(dx, dy) {
    const scale = this.spherical.radius / 600;
    const right = new THREE.Vector3().setFromMatrixColumn(this.camera.matrix, 0).multiplyScalar(-dx * scale);
    const up = new THREE.Vector3().setFromMatrixColumn(this.camera.matrix, 1).multiplyScalar(dy * scale);
    this.target.add(right).add(up);
    this.update();
  }

  /** Look at `target` from the direction (theta, phi) at `radius`. */
  set(target, radius, theta, phi) {
    this.target.copy(target);
    this.spherical.set(radius, phi, theta);
    this.update();
  }

  update() {
    this.camera.position.setFromSpherical(this.spherical).add(this.target);
    this.camera.lookAt(this.target);
    this.camera.updateMatrixWorld();
    this.onChange();
  }
}
