// Passkeys (WebAuthn): register one in My account, sign in with one as the second factor.
// The server hands out the options (with a challenge it keeps); the browser's answer goes
// back in a plain form POST, so the server's page shows the result or the error.
(function () {
  "use strict";

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) {
      bytes[i] = text.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) {
      text += String.fromCharCode(bytes[i]);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = toBase64url(response.attestationObject);
      if (response.getTransports) {
        out.response.transports = response.getTransports();
      }
    } else {
      out.response.authenticatorData = toBase64url(response.authenticatorData);
      out.response.signature = toBase64url(response.signature);
      if (response.userHandle) {
        out.response.userHandle = toBase64url(response.userHandle);
      }
    }
    return out;
  }

  function postForOptions(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var refused = said(document.getElementById("passkey-error"), "refused", "The server refused ({status}).");
          throw new Error(body.detail || refused.replace("{status}", String(response.status)));
        }
        return body;
      });
    });
  }

  // The page's words for these messages, in its language (data-* on the error box).
  function said(element, name, english) {
    return (element && element.getAttribute("data-" + name)) || english;
  }

  function showError(element, error) {
    if (!element) {
      return;
    }
    var message = error && error.name === "NotAllowedError"
      ? said(element, "cancelled", "The passkey request was cancelled or timed out.")
      : (error && error.message) || said(element, "failed", "The passkey did not work.");
    element.textContent = message;
    element.classList.remove("d-none");
  }

  function supported() {
    return window.PublicKeyCredential && navigator.credentials;
  }

  // My account: add a passkey.
  var registerForm = document.getElementById("passkey-form");
  if (registerForm) {
    registerForm.addEventListener("submit", function (event) {
      if (registerForm.elements.credential.value) {
        return; // the answer is in: let the form go
      }
      event.preventDefault();
      var errorBox = document.getElementById("passkey-error");
      if (!supported()) {
        showError(errorBox, new Error(said(errorBox, "unsupported", "This browser does not support passkeys.")));
        return;
      }
      postForOptions(registerForm.getAttribute("data-options-url")).then(function (body) {
        var options = body.options;
        options.challenge = toBytes(options.challenge);
        options.user = Object.assign({}, options.user, { id: toBytes(options.user.id) });
        options.excludeCredentials = withBytes(options.excludeCredentials);
        return navigator.credentials.create({ publicKey: options }).then(function (credential) {
          registerForm.elements.credential.value = JSON.stringify(credentialJSON(credential));
          registerForm.elements.state.value = body.state;
          registerForm.submit();
        });
      }).catch(function (error) {
        showError(errorBox, error);
      });
    });
  }

  // The login's second step: answer with a passkey instead of a code.
  var loginButton = document.getElementById("passkey-login");
  var loginForm = document.getElementById("second-factor-form");
  if (loginButton && loginForm) {
    loginButton.addEventListener("click", function () {
      var errorBox = document.getElementById("passkey-error");
      if (!supported()) {
        showError(errorBox, new Error(said(errorBox, "unsupported", "This browser does not support passkeys.")));
        return;
      }
      loginButton.disabled = true;
      postForOptions(loginForm.getAttribute("data-options-url")).then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.allowCredentials = withBytes(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options }).then(function (credential) {
          loginForm.elements.credential.value = JSON.stringify(credentialJSON(credential));
          loginForm.elements.code.value = "";
          loginForm.submit();
        });
      }).catch(function (error) {
        loginButton.disabled = false;
        showError(errorBox, error);
      });
    });
  }
})();
