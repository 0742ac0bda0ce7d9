// Passkeys (W3C WebAuthn): the browser's half of each ceremony. A button marked data-passkey asks the server for
// its options (data-options, with its form's CSRF token), hands them to navigator.credentials.create or .get,
// puts the answer in the form's "credential" field as JSON (binary fields base64url-encoded) and submits the
// form to the button's formaction; the server checks everything. On the sign-in page a passkey is also offered in the username field's
// autofill (conditional mediation). Without WebAuthn the buttons stay hidden.
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer), binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBuffers(options) {
    options.challenge = toBytes(options.challenge);
    if (options.user) options.user.id = toBytes(options.user.id);
    ["excludeCredentials", "allowCredentials"].forEach(function (list) {
      (options[list] || []).forEach(function (descriptor) { descriptor.id = toBytes(descriptor.id); });
    });
    return options;
  }

  function asJSON(credential) {
    var response = credential.response, out = {};
    out.clientDataJSON = toText(response.clientDataJSON);
    if (response.attestationObject) {
      out.attestationObject = toText(response.attestationObject);
      out.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.authenticatorData = toText(response.authenticatorData);
      out.signature = toText(response.signature);
      out.userHandle = toText(response.userHandle);
    }
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type, response: out,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    });
  }

  function fetchOptions(button) {
    var body = new URLSearchParams();
    body.set("csrf_token", button.form.elements.csrf_token.value);
    return fetch(button.getAttribute("data-options"), {method: "POST", body: body, credentials: "same-origin"})
      .then(function (answer) {
        if (!answer.ok) throw new Error("the server refused to start (" + answer.status + ")");
        return answer.json();
      })
      .then(withBuffers);
  }

  function ceremony(button, options, mediation, signal) {
    if (button.getAttribute("data-passkey") === "register") {
      return navigator.credentials.create({publicKey: options});
    }
    var request = {publicKey: options};
    if (mediation) request.mediation = mediation;
    if (signal) request.signal = signal;
    return navigator.credentials.get(request);
  }

  function finish(button, credential) {
    var form = button.form;
    form.elements.credential.value = asJSON(credential);
    form.action = button.getAttribute("formaction") || form.action;
    form.submit();
  }

  function say(button, text) {
    var status = button.form.querySelector("[data-passkey-status]");
    if (status) status.textContent = text;
  }

  var conditional = null;

  function run(button) {
    if (button.getAttribute("data-passkey") === "register" && !button.form.reportValidity()) return;
    if (conditional) conditional.abort();
    conditional = null;
    say(button, "Waiting for your passkey…");
    fetchOptions(button)
      .then(function (options) { return ceremony(button, options); })
      .then(function (credential) { finish(button, credential); })
      .catch(function (error) {
        say(button, error && error.name === "NotAllowedError" ? "Cancelled, or no passkey was chosen."
          : "The passkey did not work: " + (error && error.message ? error.message : error));
      });
  }

  function offerInAutofill(button) {
    if (!PublicKeyCredential.isConditionalMediationAvailable) return;
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) return;
      conditional = new AbortController();
      var signal = conditional.signal;
      fetchOptions(button)
        .then(function (options) { return ceremony(button, options, "conditional", signal); })
        .then(function (credential) { if (credential) finish(button, credential); })
        .catch(function () { /* aborted for the button, or dismissed: the form still works */ });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    document.querySelectorAll("button[data-passkey]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function (event) {
        event.preventDefault();
        run(button);
      });
      if (button.getAttribute("data-passkey") === "sign-in" && button.getAttribute("data-autofill") !== "off" &&
          button.form.querySelector("input[autocomplete~=webauthn]")) {
        offerInAutofill(button);
      }
    });
  });
})();
