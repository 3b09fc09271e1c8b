#!/bin/bash
# spot-leaser boot script (cloud-init user data): turns an instance of a
# runner image into one ephemeral GitHub Actions runner. The image needs
# the runner in $RUNNER_DIR owned by the user $RUNNER_USER, the AWS CLI,
# curl and jq (docs/runner-image.md). The instance's role must allow
# ssm:GetParameter and ssm:DeleteParameter on its own parameter.
set -euo pipefail
PARAMETER_PREFIX=@PARAMETER_PREFIX@
RUNNER_DIR=${RUNNER_DIR:-/opt/actions-runner}
RUNNER_USER=${RUNNER_USER:-runner}
IMDS=http://169.254.169.254/latest

imds_token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS/api/token")
imds() { curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" "$IMDS/$1"; }
instance_id=$(imds meta-data/instance-id)
region=$(imds meta-data/placement/region)
parameter="${PARAMETER_PREFIX}${instance_id}"

# A warm instance (spot-leaser serve's `warm = N`) boots once to be
# prepared, then powers off (its launch template stops it rather than
# terminating it) until a job starts it; its configuration is put before
# the start, and this script runs again at every boot.
if [ @WARM@ = 1 ] && ! aws ssm get-parameter --region "$region" \
    --name "$parameter" >/dev/null 2>&1; then
  install -D -m 0755 "$0" /var/lib/cloud/scripts/per-boot/slipway-runner.sh
  shutdown -h now
  exit 0
fi

# spot-leaser puts the configuration right after the launch: wait for it.
config=
for _ in $(seq 1 60); do
  if config=$(aws ssm get-parameter --region "$region" --with-decryption \
      --name "$parameter" --query Parameter.Value --output text 2>/dev/null); then
    break
  fi
  sleep 5
done
if [ -z "$config" ]; then
  echo "no runner configuration at $parameter; shutting down" >&2
  shutdown -h now
  exit 1
fi
aws ssm delete-parameter --region "$region" --name "$parameter" || true

# Interruption notices: remove the runner, annotate, and record the job.
if command -v spot-leaser >/dev/null; then
  spot-leaser watch @WATCH_ARGS@ >>/var/log/spot-leaser-watch.log 2>&1 &
fi

cd "$RUNNER_DIR"
case "$(jq -r .mode <<<"$config")" in
  jit)
    sudo -u "$RUNNER_USER" ./run.sh --jitconfig "$(jq -r .jit_config <<<"$config")" ;;
  token)
    group=$(jq -r '.runner_group // empty' <<<"$config")
    sudo -u "$RUNNER_USER" ./config.sh --unattended --ephemeral --disableupdate \
      --url "$(jq -r .url <<<"$config")" --token "$(jq -r .token <<<"$config")" \
      --name "$(jq -r .name <<<"$config")" --labels "$(jq -r .labels <<<"$config")" \
      ${group:+--runnergroup "$group"}
    sudo -u "$RUNNER_USER" ./run.sh ;;
  *)
    echo "unknown runner configuration mode" >&2 ;;
esac
# One job per instance: shutting down terminates it (the launch template
# sets instance-initiated shutdown to terminate; a warm instance stops, and
# serve terminates it).
shutdown -h now
