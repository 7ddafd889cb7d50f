"""HallQ edge devices: Raspberry Pi programs for the hall's ticket dispensers,
call screens, review boxes and window callers, linked to the server over MQTT.

Each role is a class that receives its hardware (gpiozero devices, an ESC/POS
printer, a player) and its MQTT link; `hallq_edge.main` builds the real ones
from a config file. Nothing here imports the server's dependencies.
"""

__version__ = "0.1.0"
