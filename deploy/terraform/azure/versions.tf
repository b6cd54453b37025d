# deploy/terraform/azure: doppel on one Azure VM (see README.md).
terraform {
  required_version = ">= 1.5"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0, < 5.0"
    }
  }
}

provider "azurerm" {
  features {}
  # null: the ARM_SUBSCRIPTION_ID environment variable, or the Azure CLI's current subscription.
  subscription_id = var.subscription_id
}
