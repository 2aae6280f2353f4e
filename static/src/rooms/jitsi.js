// Loads Jitsi Meet's IFrame API from the configured domain and embeds the session's room.

/** Load https://<domain>/external_api.js; resolve with the constructor, reject on failure or timeout. */
export function loadExternalApi(domain, timeoutSeconds) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    const timer = setTimeout(() => reject(new Error("timeout")), timeoutSeconds * 1000);
    script.src = `https://${domain}/external_api.js`;
    script.async = true;
    script.onload = () => {
      clearTimeout(timer);
      if (typeof window.JitsiMeetExternalAPI === "function") resolve(window.JitsiMeetExternalAPI);
      else reject(new Error("no JitsiMeetExternalAPI"));
    };
    script.onerror = () => {
      clearTimeout(timer);
      reject(new Error("load failed"));
    };
    document.head.append(script);
  });
}

/** The options Manabi passes to Jitsi: the room, the token, the user's name and language. */
export function meetingOptions(room, parentNode) {
  const data = room.dataset;
  return {
    roomName: data.roomName,
    jwt: data.jwt || undefined,
    parentNode,
    width: "100%",
    height: "100%",
    lang: data.lang,
    userInfo: { displayName: data.displayName },
    configOverwrite: {
      prejoinConfig: { enabled: data.prejoin === "true" },
      // Phones stay in the browser instead of being sent to the Jitsi app.
      disableDeepLinking: true,
      defaultLanguage: data.lang,
      disableInviteFunctions: true,
      doNotStoreRoom: true,
      enableWelcomePage: false,
    },
    interfaceConfigOverwrite: { MOBILE_APP_PROMO: false, SHOW_JITSI_WATERMARK: false },
  };
}
