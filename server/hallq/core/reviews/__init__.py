"""好差评: ratings of every service leg, the rectification case of every bad rating, appeals, the
visitor's protected callback number, and the month's export (docs/reviews.md)."""
