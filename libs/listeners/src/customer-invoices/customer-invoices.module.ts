import { Module } from '@nestjs/common';
import { CustomerInvoicesListener } from './customer-invoices.listener.js';

@Module({ providers: [CustomerInvoicesListener] })
export class CustomerInvoicesModule {}
