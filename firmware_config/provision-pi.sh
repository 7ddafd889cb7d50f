#!/bin/sh
# Provision a fresh Raspberry Pi OS (Bookworm) as a HallQ edge device.
#   sudo ./provision-pi.sh ROLE CONFIG.toml PASSWORD_FILE [hallq-release.tar.gz]
# ROLE: dispenser, screen, review or caller. CONFIG.toml: one of firmware_config/*.toml, filled in.
# PASSWORD_FILE: holds the password printed by `hallq device add` (kept 0600, owned by hallq).
set -eu
ROLE="$1"; CONFIG="$2"; SECRET="$3"; RELEASE="${4:-}"
case "$ROLE" in dispenser|screen|review|caller) ;; *) echo "unknown role $ROLE" >&2; exit 2;; esac

apt-get update
apt-get install -y --no-install-recommends python3-venv python3-lgpio chrony
case "$ROLE" in
  # fonts-noto-cjk: without a Chinese font Chromium draws the hall screen's Chinese as empty boxes;
  # espeak-ng-data carries the cmn-latn-pinyin voice the call screen speaks with; alsa-utils, aplay.
  screen) apt-get install -y --no-install-recommends espeak-ng espeak-ng-data alsa-utils chromium fonts-noto-cjk curl x11-xserver-utils ;;
  dispenser) apt-get install -y --no-install-recommends libusb-1.0-0 ;;
esac

id hallq >/dev/null 2>&1 || useradd --system --create-home --groups gpio,lp,dialout,audio,video hallq
install -d -o hallq -g hallq -m 0750 /etc/hallq /var/lib/hallq-edge /opt/hallq
install -o hallq -g hallq -m 0640 "$CONFIG" /etc/hallq/edge.toml
install -o hallq -g hallq -m 0600 "$SECRET" /etc/hallq/device.secret

# The edge code without the server's dependencies: hallq itself with --no-deps, then the edge group.
python3 -m venv --system-site-packages /opt/hallq/venv   # system lgpio
if [ -n "$RELEASE" ]; then
  /opt/hallq/venv/bin/pip install --no-deps "$RELEASE"
else
  /opt/hallq/venv/bin/pip install --no-deps hallq
fi
/opt/hallq/venv/bin/pip install paho-mqtt gpiozero "python-escpos[usb,serial]" qrcode pillow flask flask-socketio simple-websocket tzdata

# Time matters: requests older than a minute are refused. Sync with the hall's server.
grep -q "hallq.local" /etc/chrony/chrony.conf || echo "server hallq.local iburst prefer" >> /etc/chrony/chrony.conf
systemctl restart chrony

install -m 0644 "$(dirname "$0")/hallq-edge@.service" /etc/systemd/system/hallq-edge@.service
systemctl daemon-reload
systemctl enable --now "hallq-edge@$ROLE"

if [ "$ROLE" = screen ]; then
  # The hall's voice: a missing one should show now, not at the first call.
  espeak-ng -v cmn-latn-pinyin -q "qing3" ||
    echo "warning: espeak-ng has no cmn-latn-pinyin voice: calls will be shown but not spoken" >&2
  install -m 0755 "$(dirname "$0")/kiosk/kiosk.sh" /opt/hallq/kiosk.sh
  install -d -o hallq -g hallq /home/hallq/.config/autostart
  install -o hallq -g hallq -m 0644 "$(dirname "$0")/kiosk/hallq-kiosk.desktop" /home/hallq/.config/autostart/
  raspi-config nonint do_boot_behaviour B4 2>/dev/null || true   # desktop, auto-login
fi
echo "hallq-edge@$ROLE installed; journalctl -u hallq-edge@$ROLE -f"
