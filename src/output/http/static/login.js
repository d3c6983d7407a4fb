// Shows the "wrong token" line after a refused login (the server redirects to /login?failed=1).
"use strict";
(function () {
  if (/[?&]failed=1\b/.test(location.search)) document.getElementById("failed").hidden = false;
})();
