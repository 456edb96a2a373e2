-- A device key may be bound to one Matrix device id: it then logs in only that device.
ALTER TABLE jwwx_acc_device_keys ADD COLUMN device_id TEXT;
