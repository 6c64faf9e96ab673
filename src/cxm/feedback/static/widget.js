/* cxm survey widget: one <script> tag shows a survey's first question on any allowed website.
 *
 *   <script src="https://cxm.example/s/widget.js" data-survey="relationship-nps" data-lang="cs" async></script>
 *
 * Optional attributes: data-token (a signed visitor token, to link the answer to a known customer),
 * data-delay (seconds before the panel appears, default 0).
 * Everything shown is built with textContent: survey texts are data, never markup.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.survey) {
    return;
  }
  var base = script.src.replace(/\/s\/widget\.js(\?.*)?$/, "");
  var survey = script.dataset.survey;
  var language = script.dataset.lang || document.documentElement.lang || navigator.language || "";
  var storageKey = "cxm-widget:" + survey;
  var prefix = "cxm-w-" + Math.random().toString(36).slice(2, 8);

  var CSS = [
    ".cxm-w{position:fixed;right:16px;bottom:16px;z-index:2147483000;max-width:360px;width:calc(100% - 32px);",
    "box-sizing:border-box;background:#fff;color:#1a1a1a;border:1px solid #6b6b6b;border-radius:8px;",
    "box-shadow:0 4px 16px rgba(0,0,0,.2);padding:16px;font:15px/1.4 system-ui,sans-serif}",
    ".cxm-w *{box-sizing:border-box}",
    ".cxm-w h2{font-size:16px;margin:0 32px 8px 0}",
    ".cxm-w fieldset{border:0;margin:0;padding:0}",
    ".cxm-w legend{padding:0;margin-bottom:8px;font-weight:600}",
    ".cxm-w .cxm-scale{display:flex;flex-wrap:wrap;gap:4px}",
    ".cxm-w .cxm-choice{min-width:30px;min-height:36px;padding:4px 8px;border:1px solid #4a4a4a;border-radius:4px;",
    "background:#fff;color:#1a1a1a;font:inherit;cursor:pointer}",
    ".cxm-w .cxm-choice[aria-pressed=true]{background:#1d4ed8;border-color:#1d4ed8;color:#fff}",
    ".cxm-w button:focus-visible,.cxm-w textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:1px}",
    ".cxm-w .cxm-ends{display:flex;justify-content:space-between;font-size:13px;color:#4a4a4a;margin-top:4px}",
    ".cxm-w label{display:block;margin-top:12px;font-weight:600}",
    ".cxm-w textarea{width:100%;min-height:64px;margin-top:4px;font:inherit;border:1px solid #4a4a4a;border-radius:4px}",
    ".cxm-w .cxm-send{margin-top:12px;padding:8px 16px;border:0;border-radius:4px;background:#1d4ed8;color:#fff;",
    "font:inherit;font-weight:600;cursor:pointer}",
    ".cxm-w .cxm-send:disabled{background:#6b6b6b;cursor:not-allowed}",
    ".cxm-w .cxm-close{position:absolute;top:8px;right:8px;width:32px;height:32px;border:0;background:none;",
    "font-size:20px;color:#1a1a1a;cursor:pointer}",
    ".cxm-w .cxm-status{margin:8px 0 0}"
  ].join("");

  function answeredBefore() {
    try {
      return window.localStorage.getItem(storageKey) === "answered";
    } catch (e) {
      return false;
    }
  }

  function rememberAnswered() {
    try {
      window.localStorage.setItem(storageKey, "answered");
    } catch (e) {
      /* private browsing: the widget may show again, which is harmless */
    }
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function holds(condition, value) {
    if (!condition) {
      return true;
    }
    var wanted = condition.value;
    var values = Array.isArray(value) ? value : [value];
    return values.some(function (one) {
      switch (condition.op) {
        case "<=": return one <= wanted;
        case "<": return one < wanted;
        case ">=": return one >= wanted;
        case ">": return one > wanted;
        case "==": return one === wanted;
        case "!=": return one !== wanted;
        case "in": return wanted.indexOf(one) >= 0;
        default: return false;
      }
    });
  }

  function choices(question) {
    if (question.options && question.options.length) {
      return question.options.map(function (option) {
        return { value: option.value, label: option.label };
      });
    }
    var list = [];
    for (var score = question.scale_min; score <= question.scale_max; score += 1) {
      list.push({ value: score, label: String(score) });
    }
    return list;
  }

  function render(definition) {
    var question = definition.question;
    var follow = definition.follow_up;
    var multi = question.kind === "multi_choice";
    var chosen = multi ? [] : null;

    var style = element("style", {}, CSS);
    var panel = element("aside", { "class": "cxm-w", "aria-labelledby": prefix + "-title", lang: definition.language });
    var close = element("button", { type: "button", "class": "cxm-close", "aria-label": definition.ui.close }, "\u00d7");
    var title = element("h2", { id: prefix + "-title" }, definition.title);
    var form = element("form", { novalidate: "" });
    var fieldset = element("fieldset", {});
    var legend = element("legend", {}, question.label);
    var scale = element("div", { "class": "cxm-scale", role: "group" });
    var status = element("p", { "class": "cxm-status", role: "status", "aria-live": "polite" });
    var send = element("button", { type: "submit", "class": "cxm-send", disabled: "" }, definition.ui.send);
    var followLabel = null;
    var followText = null;

    fieldset.appendChild(legend);
    if (question.help) {
      fieldset.appendChild(element("p", {}, question.help));
    }
    choices(question).forEach(function (choice) {
      var button = element("button", { type: "button", "class": "cxm-choice", "aria-pressed": "false" }, choice.label);
      button.addEventListener("click", function () {
        if (multi) {
          var at = chosen.indexOf(choice.value);
          if (at >= 0) { chosen.splice(at, 1); } else { chosen.push(choice.value); }
          button.setAttribute("aria-pressed", at >= 0 ? "false" : "true");
        } else {
          chosen = choice.value;
          Array.prototype.forEach.call(scale.children, function (other) {
            other.setAttribute("aria-pressed", other === button ? "true" : "false");
          });
        }
        var answered = multi ? chosen.length > 0 : chosen !== null;
        if (answered) { send.removeAttribute("disabled"); } else { send.setAttribute("disabled", ""); }
        if (followLabel) {
          var shown = answered && holds(follow.show_if, chosen);
          followLabel.hidden = !shown;
          followText.hidden = !shown;
        }
      });
      scale.appendChild(button);
    });
    fieldset.appendChild(scale);
    if (question.low || question.high) {
      var ends = element("div", { "class": "cxm-ends", "aria-hidden": "true" });
      ends.appendChild(element("span", {}, question.low || ""));
      ends.appendChild(element("span", {}, question.high || ""));
      fieldset.appendChild(ends);
    }
    form.appendChild(fieldset);
    if (follow) {
      followLabel = element("label", { "for": prefix + "-follow" }, follow.label);
      followText = element("textarea", { id: prefix + "-follow", maxlength: "2000" });
      followLabel.hidden = true;
      followText.hidden = true;
      form.appendChild(followLabel);
      form.appendChild(followText);
    }
    form.appendChild(send);
    form.appendChild(status);

    function dismiss() {
      panel.remove();
      style.remove();
    }

    close.addEventListener("click", dismiss);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { dismiss(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var answers = {};
      answers[question.key] = chosen;
      if (followText && !followText.hidden && followText.value.trim()) {
        answers[follow.key] = followText.value.trim();
      }
      send.setAttribute("disabled", "");
      status.textContent = definition.ui.sending;
      var body = { answers: answers, language: definition.language, page_url: window.location.href };
      if (script.dataset.token) { body.token = script.dataset.token; }
      fetch(base + "/s/" + encodeURIComponent(survey) + "/widget", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body)
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        rememberAnswered();
        form.remove();
        var thanks = element("p", { "class": "cxm-status", role: "status", tabindex: "-1" }, definition.thank_you);
        panel.appendChild(thanks);
        thanks.focus();
      }).catch(function () {
        status.textContent = definition.ui.error;
        send.removeAttribute("disabled");
      });
    });

    panel.appendChild(close);
    panel.appendChild(title);
    panel.appendChild(form);
    document.head.appendChild(style);
    document.body.appendChild(panel);
  }

  function start() {
    if (answeredBefore()) {
      return;
    }
    var address = base + "/s/" + encodeURIComponent(survey) + "/widget.json?lang=" + encodeURIComponent(language);
    fetch(address, { mode: "cors", credentials: "omit" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(render)
      .catch(function () { /* the survey is closed or the site is not allowed: show nothing */ });
  }

  var delay = parseInt(script.dataset.delay || "0", 10) * 1000;
  function later() { window.setTimeout(start, isNaN(delay) ? 0 : delay); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", later);
  } else {
    later();
  }
})();
