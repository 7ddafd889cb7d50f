#!/bin/sh
# Chromium in kiosk mode on the local call-screen agent (hallq-edge screen).
# The page rejoins by itself after any break; Chromium is restarted if it dies.
URL="${HALLQ_KIOSK_URL:-http://127.0.0.1:8080/hall.html?hall=district&voice=off}"
xset s off; xset -dpms; xset s noblank
until curl -fsS -o /dev/null "$URL"; do sleep 2; done
while true; do
  chromium --kiosk --noerrdialogs --disable-infobars --incognito --check-for-update-interval=31536000 \
    --autoplay-policy=no-user-gesture-required --disable-session-crashed-bubble "$URL"
  sleep 2
done
