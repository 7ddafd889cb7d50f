"""Extensions created at import and bound to an app in create_app (init_app)."""

from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

socketio = SocketIO()
csrf = CSRFProtect()
login_manager = LoginManager()
