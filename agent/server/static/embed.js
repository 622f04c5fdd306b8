/* Embed the ShopAgent widget in any page:
 *   <script src="https://agent.example/widget/embed.js" data-key="sa_..."
 *           data-shopper-token="<JWT from your backend>" async></script>
 * It adds a chat button that opens the widget in an iframe (bottom right).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src).origin;
  var hash = new URLSearchParams({ key: script.dataset.key || "", api: base });
  if (script.dataset.shopperToken) hash.set("token", script.dataset.shopperToken);
  var frame = document.createElement("iframe");
  frame.src = base + "/widget/#" + hash.toString();
  frame.title = "Shop assistant";
  frame.style.cssText = "position:fixed;right:20px;bottom:84px;width:380px;height:560px;" +
    "max-height:80vh;border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.2);" +
    "display:none;z-index:2147483646;background:#fff";
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = "Chat";
  button.setAttribute("aria-label", "Open the shop assistant");
  button.style.cssText = "position:fixed;right:20px;bottom:20px;width:56px;height:56px;" +
    "border-radius:50%;border:0;background:#2563eb;color:#fff;font-weight:600;cursor:pointer;" +
    "z-index:2147483647;box-shadow:0 4px 14px rgba(0,0,0,.25)";
  button.addEventListener("click", function () {
    frame.style.display = frame.style.display === "none" ? "block" : "none";
  });
  document.body.appendChild(frame);
  document.body.appendChild(button);
})();
