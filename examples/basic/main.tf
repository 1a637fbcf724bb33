# A minimal Terraform configuration for trying tflock against a local AWS
# emulator (moto). It downloads no provider: `terraform_data` and the
# `local-exec` provisioner are built into terraform itself.
#
# The backend block holds only what does not depend on where the emulator
# runs. The bucket, the lock table and the endpoints are given at init time:
#
#   terraform init -backend-config=backend.hcl
#
# with a backend.hcl such as
#
#   bucket         = "tflock-demo-state"
#   dynamodb_table = "tflock-demo"
#   endpoints = {
#     s3       = "http://127.0.0.1:5000"
#     dynamodb = "http://127.0.0.1:5000"
#   }
#
# `scripts/demo` writes that file for you and runs the whole thing.

terraform {
  required_version = ">= 1.6"

  backend "s3" {
    key    = "examples/basic/terraform.tfstate"
    region = "us-east-1"

    # The emulator serves buckets by path (http://host/bucket/key), not by
    # virtual host (http://bucket.host/key).
    use_path_style = true

    # The emulator accepts any credentials and has no STS, IMDS or real
    # regions, and does not compute S3's newer checksums: skip those checks.
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    skip_s3_checksum            = true
  }
}

variable "sleep_seconds" {
  description = "How long the apply takes, so that the lease is held for a while."
  type        = number
  default     = 2
}

# Replaced on every apply (timestamp() changes each run), so every
# `tflock apply` has work to do and runs the provisioner below.
resource "terraform_data" "work" {
  triggers_replace = [timestamp()]

  provisioner "local-exec" {
    command = "sleep ${var.sleep_seconds}"
  }
}

output "applied_at" {
  description = "When the last apply replaced the resource."
  value       = terraform_data.work.triggers_replace[0]
}
