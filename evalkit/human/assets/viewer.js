// The full-size viewer and the per-task focus, for the rating page (evalkit human serve).
// Our own constant code: it reads nothing but the page's thumbnails and never sends anything.
(function () {
  if (!window.__ekViewer) {
    // Built node by node: st.html's sanitiser drops any script whose text looks like markup.
    const el = (tag, props, kids) => {
      const node = Object.assign(document.createElement(tag), props || {});
      for (const kid of kids || []) node.append(kid);
      return node;
    };
    const button = (act, label) => { const b = el("button", { type: "button", textContent: label }); b.dataset.act = act; return b; };
    const v = el("div", { className: "ek-viewer", hidden: true }, [
      el("div", { className: "ek-viewer-bar" }, [
        el("span", { className: "ek-viewer-label" }),
        button("prev", "\u2190 Previous"), button("flip", "Flip to the other set (F)"), button("next", "Next \u2192"),
        button("fit", "Fit / 1:1 (Z)"), button("close", "Close (Esc)"),
      ]),
      el("div", { className: "ek-viewer-stage" }, [el("img", { alt: "" })]),
    ]);
    v.setAttribute("role", "dialog");
    v.setAttribute("aria-modal", "true");
    v.setAttribute("aria-label", "Image at full size");
    v.querySelector(".ek-viewer-label").setAttribute("aria-live", "polite");
    document.body.appendChild(v);
    const img = v.querySelector("img"), label = v.querySelector(".ek-viewer-label");
    const state = { side: "A", i: 0, fit: false, opener: null };
    const thumbs = (side) => Array.from(document.querySelectorAll('.ek-thumb[data-side="' + side + '"]'));
    const native = () => { if (!state.fit && img.naturalWidth) img.style.width = img.naturalWidth / window.devicePixelRatio + "px"; };
    img.addEventListener("load", native);
    function show() {
      const list = thumbs(state.side), thumb = list[state.i];
      if (!thumb) { close(); return; }
      v.classList.toggle("fit", state.fit);
      img.style.width = "";
      img.src = thumb.querySelector("img").getAttribute("src");  // the same URL: the same, original bytes
      img.alt = "Set " + state.side + ", image " + (state.i + 1);
      label.textContent = "Set " + state.side + " \u00b7 image " + (state.i + 1) + " of " + list.length +
        (state.fit ? " \u00b7 fitted to the screen" : " \u00b7 1:1, native pixels");
      if (img.complete) native();
    }
    function open(side, i, opener) {
      Object.assign(state, { side: side, i: i, opener: opener });
      v.hidden = false;
      show();
      v.querySelector('[data-act="close"]').focus({ preventScroll: true });
    }
    function close() {
      if (v.hidden) return;
      v.hidden = true;
      if (state.opener && document.contains(state.opener)) state.opener.focus({ preventScroll: true });
    }
    function act(what) {
      const n = thumbs(state.side).length || 1;
      if (what === "close") { close(); return; }
      if (what === "flip") state.side = state.side === "A" ? "B" : "A";
      if (what === "next") state.i = (state.i + 1) % n;
      if (what === "prev") state.i = (state.i + n - 1) % n;
      if (what === "fit") state.fit = !state.fit;
      show();
    }
    const KEYS = { Escape: "close", f: "flip", F: "flip", " ": "flip", ArrowRight: "next", ArrowLeft: "prev", z: "fit", Z: "fit" };
    document.addEventListener("click", (e) => {
      const thumb = e.target.closest && e.target.closest(".ek-thumb");
      if (thumb) { e.preventDefault(); open(thumb.dataset.side, Number(thumb.dataset.i), thumb); return; }
      const button = e.target.closest && e.target.closest(".ek-viewer [data-act]");
      if (button) { act(button.dataset.act); return; }
      if (e.target.classList && e.target.classList.contains("ek-viewer-stage")) close();
    });
    document.addEventListener("keydown", (e) => {
      if (v.hidden || !KEYS[e.key]) return;
      e.preventDefault();
      e.stopPropagation();
      act(KEYS[e.key]);
    }, true);
    window.__ekViewer = { open: open, close: close };
  }
  // A newly shown task: close the viewer, scroll back to the caption (the page stays
  // scrolled down at the previous Submit otherwise), focus the first answer.
  const tasks = document.querySelectorAll(".ek-task");
  const view = tasks.length ? tasks[tasks.length - 1].dataset.view : null;
  if (!view || window.__ekView === view) return;
  window.__ekView = view;
  window.__ekViewer.close();
  // The questions render a moment after this script (seconds on a loaded machine); the focus
  // may still sit on the previous task's Submit (the page reuses that button) or drop to the
  // page when re-rendered. Take it unless the rater is already using this task.
  let tries = 400, held = 0;
  (function focusFirst() {
    if (window.__ekView !== view) return;  // a newer task took over
    const radio = document.querySelector(".st-key-q-" + CSS.escape(view) + ' input[type="radio"]');
    const active = document.activeElement;
    const dropped = !active || active === document.body;
    const using = active && active.closest && active.closest('.ek-task, .ek-viewer, [role="radiogroup"]');
    if (radio && active === radio) {
      if (++held >= 20) return;  // kept for a second: done
    } else if (radio && (held === 0 ? !using : dropped)) {
      radio.focus({ preventScroll: true });
      if (held === 0) {
        for (const el of [document.querySelector('[data-testid="stMain"]'), document.scrollingElement]) {
          if (el) el.scrollTo(0, 0);
        }
      }
      held = Math.max(held, 1);
    } else if (radio) {
      return;  // the rater moved the focus elsewhere: leave it there
    }
    if (--tries > 0) setTimeout(focusFirst, 50);
  })();
})();
