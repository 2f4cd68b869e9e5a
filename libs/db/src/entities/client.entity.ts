import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A tenant: a hospital system that submits studies. */
@Entity('clients')
export class ClientEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  /** HMAC key for webhook signatures; must be readable to sign, so it is kept, not hashed. */
  @Column('text', { name: 'webhook_secret' }) webhookSecret!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
