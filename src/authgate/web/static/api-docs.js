/* Starts Swagger UI on /api/documentation with the configuration the page carries as JSON
   (an inline script would need the page's CSP to allow one). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  var options = Object.assign({}, config.ui, {
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
  var ui = SwaggerUIBundle(options);
  ui.initOAuth(config.initOAuth);
})();
