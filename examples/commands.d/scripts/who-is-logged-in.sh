#!/bin/sh
# Who is logged in, and since when: `who`, or only the sessions of the user in $1.
# Read-only; run by the who-is-logged-in catalog command with its params as arguments.
set -eu

user="${1:-}"
if [ -z "$user" ]; then
    who
else
    who | awk -v user="$user" '$1 == user'
fi
echo "$(who | wc -l) session(s) in total on $(hostname)"
