"""The API's blueprint, which its route, error and balancer modules register on."""

from flask import Blueprint

bp = Blueprint("api", __name__)
