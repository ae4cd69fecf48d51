#!/usr/bin/env bash
# Placeholder until the boto3/AWS CLI suite lands.
set -euo pipefail
echo "compat: no suite yet"
