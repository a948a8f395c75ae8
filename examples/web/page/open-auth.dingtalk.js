// `/open-auth.js` inside DingTalk: the real component, bundled with the page. The page
// (`app.js`) imports `openAuth` from `/open-auth.js` either way.
export { openAuth } from "dingtalk-design-libs/biz/openAuth";
